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

  function run(page, shape) {
    const [meta, program] = page;
    const checked = sizes(meta, shape);
    if (checked.errors) return [checked, {}];
    const result = program(F, ...checked.values);
    if (Array.isArray(result)) return [{ errors: lines(meta, result) }, {}];
    return [plain(result.json), plain(result.totals)];
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

  const pages = window.cnnmacrosPages || [];
  const api = {
    F,
    /** The page's figures for another input size, as `cnnmacros summary --input ... --json`. */
    recompute(shape) {
      if (!pages.length) return { errors: ["this page has no architecture to recompute"] };
      const [result, totals] = run(pages[0], shape);
      show(result, totals);
      return result;
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
    if (pages.length) control(pages[0]);
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
