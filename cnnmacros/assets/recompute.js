/* cnnmacros: recompute a page in the browser.
 *
 * Each architecture page pushes its program onto window.cnnmacrosPages: JavaScript that
 * cnnmacros.recompute generated from the symbolic engine's expressions, BigInt throughout.
 * This file holds only what every program shares: exact integer helpers, the check of the
 * input sizes, the command line's error lines, and the page's table and totals.
 * window.cnnmacros.recompute(shape) returns what `cnnmacros summary FILE --input H,W,C --json`
 * prints (numbers beyond 2**53 stay BigInt), or {errors: [...]} with its lines.
 */
(function () {
  "use strict";

  const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

  /* Floors, ceilings and remainders of BigInts as Python's //, -(-a // b) and %. */
  const F = {
    fdiv(a, b) {
      const q = a / b;
      return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
    },
    cdiv(a, b) {
      return -F.fdiv(-a, b);
    },
    mod(a, b) {
      const r = a % b;
      return r !== 0n && r < 0n !== b < 0n ? r + b : r;
    },
    max(...values) {
      return values.reduce((x, y) => (y > x ? y : x));
    },
    min(...values) {
      return values.reduce((x, y) => (y < x ? y : x));
    },
    exact(a, b) {
      if (a % b !== 0n) throw new Error("cnnmacros: a total that is not an integer");
      return a / b;
    },
  };

  /* BigInt as Number where that is exact, as JSON.parse gives the command line's numbers. */
  function plain(value) {
    if (typeof value === "bigint") return value <= SAFE && value >= -SAFE ? Number(value) : value;
    if (Array.isArray(value)) return value.map(plain);
    if (value && typeof value === "object") {
      const out = {};
      for (const key of Object.keys(value)) out[key] = plain(value[key]);
      return out;
    }
    return value;
  }

  /* Python's errors.printable: what a terminal must not interpret, as repr escapes it. */
  const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/gu;
  function printable(text) {
    return text.replace(UNPRINTABLE, (c) => {
      if (c === " ") return c;
      const named = { "\n": "\\n", "\r": "\\r", "\t": "\\t" }[c];
      if (named) return named;
      const code = c.codePointAt(0);
      const hex = code.toString(16);
      if (code < 0x100) return "\\x" + hex.padStart(2, "0");
      return code < 0x10000 ? "\\u" + hex.padStart(4, "0") : "\\U" + hex.padStart(8, "0");
    });
  }

  function lines(meta, problems) {
    problems.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
    return problems.map(([line, path, message]) => `${meta.file}:${line}: ${path}: ${message}`);
  }

  /* The sizes of --input, checked as the command line checks them (cnnmacros.cli.input_sizes). */
  function sizes(meta, shape) {
    const where = `${meta.file}:${meta.line}: input: `;
    const entries = Array.isArray(shape) ? shape : [shape];
    if (entries.length !== meta.input.length) {
      return { errors: [where + `expected ${meta.input.length} sizes from --input, one per entry of the file's input [${meta.input.join(", ")}], got ${entries.length}`] };
    }
    const errors = [];
    const values = entries.map((entry, i) => {
      const text = String(entry).trim();
      if (!/^[0-9]+$/.test(text) || BigInt(text) < 1n) {
        errors.push(printable(where + `expected a positive integer for size ${i + 1} from --input, got '${text}'`));
        return 0n;
      }
      return BigInt(text);
    });
    return errors.length ? { errors } : { values };
  }

  /* Python's repr of a string, as argparse's messages quote what they were given. */
  function repr(text) {
    const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
    const body = text.replace(/\\/g, "\\\\").replace(quote === "'" ? /'/g : /"/g, "\\" + quote);
    return printable(quote + body + quote);
  }

  /* Python's keywords, which are no names for --batch (cnnmacros.architecture.is_symbol_name). */
  const KEYWORDS = new Set(
    "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield".split(" ")
  );

  /* --batch, checked as the command line checks it (cnnmacros.cli._batch); the page counts numbers. */
  function batchSize(batch) {
    if (batch === undefined || batch === null) return { value: 1n };
    const text = String(batch);
    if (/^[0-9]+$/.test(text) && BigInt(text) >= 1n) return { value: BigInt(text) };
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(text) && !KEYWORDS.has(text)) {
      return { errors: [`argument --batch: the page counts numbers, expected a positive integer, got ${repr(text)} (cnnmacros summary --batch ${text} gives the expressions in it)`] };
    }
    return { errors: [`argument --batch: expected a positive integer or a name such as B, got ${repr(text)}`] };
  }

  /* --fits: 24GiB in bytes, exactly (cnnmacros.memory.memory_size). */
  const UNITS = { B: 1n, KB: 10n ** 3n, MB: 10n ** 6n, GB: 10n ** 9n, KiB: 2n ** 10n, MiB: 2n ** 20n, GiB: 2n ** 30n };
  function memorySize(text) {
    text = String(text);
    const match = /^[ \t\n\r\f\v]*([0-9]+(?:\.[0-9]+)?)[ \t\n\r\f\v]*([A-Za-z]+)[ \t\n\r\f\v]*$/.exec(text);
    const unit = match && Object.keys(UNITS).find((u) => u.toLowerCase() === match[2].toLowerCase());
    const fail = (message) => ({ errors: [`argument --fits: ${message}`] });
    if (!unit) return fail(`expected a size such as 24GiB, in ${Object.keys(UNITS).join(", ")}, got ${repr(text)}`);
    const [whole, fraction = ""] = match[1].split(".");
    const scaled = BigInt(whole + fraction) * UNITS[unit]; // bytes = scaled / places, exactly
    const places = 10n ** BigInt(fraction.length);
    if (scaled % places !== 0n) {
      const digits = String(scaled % places).padStart(fraction.length, "0").replace(/0+$/, "");
      return fail(`expected a whole number of bytes, got ${repr(text)} (${scaled / places}.${digits} bytes)`);
    }
    if (scaled === 0n) return fail(`expected a size larger than 0, got ${repr(text)}`);
    return { value: scaled / places, label: `${match[1]} ${unit}` };
  }

  /* The program at one input and batch: [JSON, every declared total], or [{errors}, {}]. */
  function exact(page, shape, batch) {
    const [meta, program] = page;
    const checked = sizes(meta, shape);
    if (checked.errors) return [checked, {}];
    const result = program(F, batch, ...checked.values);
    if (Array.isArray(result)) return [{ errors: lines(meta, result) }, {}];
    return [result.json, result.totals];
  }

  function run(page, shape, batch) {
    const size = batchSize(batch);
    if (size.errors) return [size, {}];
    const [result, totals] = exact(page, shape, size.value);
    return result.errors ? [result, {}] : [plain(result), plain(totals)];
  }

  /* The training step as Z_1 B + Z_0 from the program at batches 1 and 2 (it is linear in B),
   * each layer's saved bytes per example, and the largest batch that fits in memory bytes by the
   * formula largest_batch (floor((Z_M - Z_0) / Z_1), none below 1). */
  function memoryAt(page, shape, batch, memory) {
    const [one, totalsOne] = exact(page, shape, 1n);
    if (one.errors) return one;
    const [two, totalsTwo] = exact(page, shape, 2n);
    const perExample = totalsTwo.train_bytes - totalsOne.train_bytes;
    const fixed = totalsOne.train_bytes - perExample;
    const saved = one.layers.map((layer, i) => two.layers[i].saved_bytes - layer.saved_bytes);
    const largest = memory === undefined ? undefined : F.max(api.formula("largest_batch", [memory, fixed, perExample]), 0n);
    const [at, totals] = batch === 1n ? [one, totalsOne] : batch === 2n ? [two, totalsTwo] : exact(page, shape, batch);
    return { json: at, totals, perExample, fixed, saved, largest };
  }

  /* The page ------------------------------------------------------------------------------ */

  /* 11,689,512, as the tables print it (toLocaleString costs more than the whole recompute). */
  function grouped(value) {
    const text = String(value);
    const digits = text.startsWith("-") ? text.slice(1) : text;
    return (digits === text ? "" : "-") + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  function shapeText(sizes) {
    return sizes.map(grouped).join("×");
  }

  function setCell(cell, text, title) {
    if (!cell) return;
    if (cell.textContent !== text) cell.textContent = text; // untouched cells keep their layout
    if (title !== undefined && cell.title !== title) cell.title = title;
  }

  /* Each table's rows, cells and groups, found once. */
  const layouts = new WeakMap();
  function layout(table) {
    let known = layouts.get(table);
    if (known) return known;
    const rows = {};
    const groups = [];
    for (const tr of table.querySelectorAll("tr[data-row]")) {
      const cells = {};
      for (const cell of tr.querySelectorAll("[data-figure]")) cells[cell.dataset.figure] = cell;
      rows[tr.dataset.row] = { shape: tr.querySelector(".cnn-shape"), cells };
    }
    const members = {};
    for (const tr of table.querySelectorAll("tr[data-row][data-in]")) {
      for (const g of tr.dataset.in.split(" ")) if (g) (members[g] = members[g] || []).push(Number(tr.dataset.row));
    }
    for (const tr of table.querySelectorAll("tr[data-group]")) {
      const cells = {};
      for (const cell of tr.querySelectorAll("[data-figure]")) cells[cell.dataset.figure] = cell;
      groups.push({ rows: members[tr.dataset.group] || [], shape: tr.querySelector(".cnn-shape"), cells });
    }
    known = { rows, groups };
    layouts.set(table, known);
    return known;
  }

  function fillRow(row, output, figures) {
    if (!row) return;
    if (output && row.shape) {
      const html = output.map(grouped).join("×<wbr>"); // digits and commas only
      if (row.shape.innerHTML !== html) row.shape.innerHTML = html;
    }
    for (const [key, cell] of Object.entries(row.cells)) {
      const value = figures[key];
      if (value === undefined) continue;
      if (value === null) {
        setCell(cell, "", "");
      } else if (typeof value === "object") {
        const offset = value.offset.map((o) => String(o).replace("-", "\u2212")).join(", ");
        setCell(cell, value.size.join("×"), `jump ${value.jump.join("×")}, offset ${offset}`);
      } else {
        setCell(cell, grouped(value));
      }
    }
  }

  /* The table, its group rows and the totals, in place; the errors instead when there are some. */
  function show(result, totals) {
    const status = document.querySelector(".cnn-recompute-status");
    const list = document.querySelector(".cnn-recompute-errors");
    if (list) list.textContent = "";
    if (result.errors) {
      for (const line of result.errors) {
        const item = document.createElement("li");
        item.textContent = line; // an author's names stay text
        if (list) list.appendChild(item);
      }
      if (status) status.textContent = "The command line gives these errors for this input size; the table is unchanged.";
      return;
    }
    if (status) status.textContent = `The table and the totals are for an input of ${shapeText(result.input)}.`;
    const inputs = document.querySelectorAll("form.cnn-recompute-form input");
    if (inputs.length === result.input.length) inputs.forEach((input, i) => (input.value = String(result.input[i])));
    const table = document.querySelector(".cnn-layers table");
    if (table) {
      const { rows, groups } = layout(table);
      fillRow(rows.input, result.input, {});
      result.layers.forEach((layer, i) => fillRow(rows[String(i + 1)], layer.output, layer));
      const last = result.layers.length ? result.layers[result.layers.length - 1].output : result.input;
      fillRow(rows.output, last, {});
      for (const group of groups) {
        const sums = {};
        for (const key of Object.keys(group.cells)) {
          sums[key] = group.rows.reduce((sum, k) => sum + BigInt(result.layers[k - 1][key]), 0n);
        }
        fillRow(group, result.layers[group.rows[group.rows.length - 1] - 1].output, sums);
      }
      fillRow(rows.total, null, result.totals);
    }
    for (const node of document.querySelectorAll("[data-total]")) {
      const value = totals[node.dataset.total]; // every declared total, those the JSON leaves out too
      if (value !== undefined) setCell(node, grouped(value));
    }
  }

  /* Folding: a row shows when every group that holds it is open. */
  function fold(table) {
    const buttons = {};
    for (const button of table.querySelectorAll("button[data-fold]")) buttons[button.dataset.fold] = button;
    const update = () => {
      for (const tr of table.querySelectorAll("tr[data-in]")) {
        const groups = tr.dataset.in.split(" ").filter(Boolean);
        tr.hidden = groups.some((g) => buttons[g] && buttons[g].getAttribute("aria-expanded") !== "true");
      }
    };
    for (const button of Object.values(buttons)) {
      button.addEventListener("click", () => {
        button.setAttribute("aria-expanded", String(button.getAttribute("aria-expanded") !== "true"));
        update();
      });
    }
    // a long table starts with its blocks folded: the stages and their blocks in one screen
    if (table.querySelectorAll("tr[data-row]").length > LONG) {
      for (const tr of table.querySelectorAll("tr[data-group]")) {
        if (tr.dataset.in) buttons[tr.dataset.group].setAttribute("aria-expanded", "false");
      }
      update();
    }
  }
  const LONG = 40;

  function control(page) {
    const form = document.querySelector("form.cnn-recompute-form");
    if (!form) return;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const shape = Array.from(form.querySelectorAll("input")).map((input) => input.value);
      api.recompute(shape);
    });
    form.addEventListener("reset", () => setTimeout(() => api.recompute(page[0].input), 0));
  }

  /* The training-memory calculator -------------------------------------------------------- */

  /* 1.23 GiB, rounded to hundredths in integers. */
  function gib(bytes) {
    const hundredths = (bytes * 100n + 2n ** 29n) / 2n ** 30n;
    return `${grouped(hundredths / 100n)}.${String(hundredths % 100n).padStart(2, "0")} GiB`;
  }

  const PARTS = [
    ["input_bytes", "the input batch"],
    ["saved_bytes", "kept for the backward pass"],
    ["param_bytes", "parameters"],
    ["grad_bytes", "their gradients"],
    ["optimizer_bytes", "the optimizer's state"],
    ["buffer_bytes", "buffers"],
  ];

  /* Each layer's saved bytes at the batch, and its bar: as long against the largest as its bytes
   * per example, titled with its share in tenths of a percent (render.memory_bars). */
  function fillSaved(table, memory, batch) {
    const label = table.querySelector(".cnn-saved-batch");
    if (label) label.textContent = grouped(batch);
    const largest = memory.saved.reduce((a, b) => (b > a ? b : a), 0n);
    const total = memory.saved.reduce((a, b) => a + b, 0n);
    memory.json.layers.forEach((layer, i) => {
      const tr = table.querySelector(`tr[data-row="${i + 1}"]`);
      if (!tr) return;
      setCell(tr.querySelector(".cnn-saved-bytes"), grouped(layer.saved_bytes));
      const share = tr.querySelector(".cnn-share");
      const value = memory.saved[i];
      if (!share) return;
      if (value === 0n) {
        share.textContent = "";
        return;
      }
      const width = (100n * value + largest - 1n) / largest;
      const tenths = (2000n * value + total) / (2n * total);
      share.innerHTML = '<span class="cnn-bar"></span>';
      share.firstChild.style.width = `${width}%`;
      share.firstChild.title = `${tenths / 10n}.${tenths % 10n} % of the bytes kept`;
    });
    const foot = table.querySelector('tr[data-row="total"] .cnn-saved-bytes');
    if (foot) foot.innerHTML = `<strong>${grouped(memory.json.totals.saved_bytes)}</strong>`;
  }

  /* The calculator's lines: [label, value, what it adds up] each, as text (no author's string). */
  function memoryLines(memory, shape, batch, size) {
    const t = memory.totals;
    const parts = PARTS.map(([key, words]) => `${words} ${grouped(t[key])}`).join(" + ");
    const room = `${size.label} (${grouped(size.value)} bytes)`;
    const fits =
      memory.largest < 1n
        ? [`Not even a batch of 1 fits in ${room}:`, `${grouped(memory.perExample + memory.fixed)} bytes at batch 1`]
        : [`The largest batch that fits in ${room}:`, grouped(memory.largest)];
    return [
      [`One training step at batch ${grouped(batch)}, input ${shapeText(shape)}:`, `${grouped(t.train_bytes)} bytes (${gib(t.train_bytes)})`, `= ${parts}`],
      ["For a batch of B:", `${grouped(memory.perExample)} B + ${grouped(memory.fixed)} bytes`],
      fits,
    ];
  }

  function showLines(out, lines) {
    out.textContent = "";
    for (const [label, value, detail] of lines) {
      const line = document.createElement("p");
      line.append(label + " ");
      const strong = document.createElement("strong");
      strong.textContent = value;
      line.append(strong);
      if (detail) {
        const small = document.createElement("small");
        small.textContent = " " + detail;
        line.append(small);
      }
      out.appendChild(line);
    }
  }

  function calculator(page) {
    const form = document.querySelector("form.cnn-memory-form");
    if (!form) return () => {};
    const out = form.querySelector(".cnn-memory-result");
    const table = document.querySelector(".cnn-memory table");
    const original = table ? table.innerHTML : "";
    const compute = () => {
      const control = document.querySelectorAll("form.cnn-recompute-form input");
      const shape = control.length ? Array.from(control).map((i) => i.value) : page[0].input;
      const batch = batchSize(form.elements.batch.value.trim());
      const size = memorySize(form.elements.memory.value);
      const checked = sizes(page[0], shape);
      const errors = [...(checked.errors || []), ...(batch.errors || []), ...(size.errors || [])];
      const memory = errors.length ? null : memoryAt(page, shape, batch.value, size.value);
      if (memory && memory.errors) errors.push(...memory.errors);
      if (errors.length) {
        showLines(out, errors.map((line) => [line, ""])); // an author's names stay text
        if (table) table.innerHTML = original;
        return;
      }
      showLines(out, memoryLines(memory, checked.values, batch.value, size));
      if (table) fillSaved(table, memory, batch.value);
    };
    form.hidden = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      compute();
    });
    form.addEventListener("reset", () => setTimeout(compute, 0));
    compute();
    return compute;
  }

  const pages = window.cnnmacrosPages || [];
  let refreshMemory = () => {};
  const api = {
    F,
    /** The page's figures for another input size (and batch size), as
     * `cnnmacros summary --input ... [--batch N] --json`. */
    recompute(shape, batch) {
      if (!pages.length) return { errors: ["this page has no architecture to recompute"] };
      const [result, totals] = run(pages[0], shape, batch);
      show(result, totals);
      refreshMemory();
      return result;
    },
    /** The largest batch whose training step fits in memory (such as "24GiB"), as the "fits" of
     * `cnnmacros summary --input ... --fits SIZE --json`. */
    fits(shape, memory) {
      if (!pages.length) return { errors: ["this page has no architecture to recompute"] };
      const size = memorySize(memory);
      if (size.errors) return size;
      const checked = sizes(pages[0][0], shape);
      if (checked.errors) return checked;
      const result = memoryAt(pages[0], shape, 1n, size.value);
      if (result.errors) return result;
      return plain({ memory: size.value, largest_batch: result.largest });
    },
    /** One formula of the Formulas page applied to BigInt or integer arguments. */
    formula(name, args) {
      const f = (window.cnnmacrosFormulas || {})[name];
      if (!f) throw new Error(`no formula ${name}`);
      return f(F, ...args.map((a) => BigInt(a)));
    },
  };
  window.cnnmacros = api;

  function start() {
    if (pages.length) {
      control(pages[0]);
      refreshMemory = calculator(pages[0]);
    }
    for (const table of document.querySelectorAll(".cnn-layers table")) fold(table);
    calculators();
  }

  /* The Formulas page: a calculator under each formula. */
  function calculators() {
    for (const form of document.querySelectorAll("form.cnn-calculator")) {
      const out = form.querySelector("output");
      const compute = () => {
        const args = Array.from(form.querySelectorAll("input")).map((i) => i.value.trim());
        if (args.some((a) => !/^-?[0-9]+$/.test(a))) {
          out.textContent = "expected an integer for every symbol";
          return;
        }
        try {
          out.textContent = grouped(api.formula(form.dataset.formula, args));
        } catch (error) {
          out.textContent = error instanceof RangeError ? "a division by zero" : String(error.message || error);
        }
      };
      form.addEventListener("input", compute);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        compute();
      });
      compute();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
