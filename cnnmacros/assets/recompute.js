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
    if (checked.errors) return checked;
    const result = program(F, ...checked.values);
    if (Array.isArray(result)) return { errors: lines(meta, result) };
    return plain(result);
  }

  /* The page ------------------------------------------------------------------------------ */

  function grouped(value) {
    return BigInt(value).toLocaleString("en-US");
  }

  function shapeText(sizes) {
    return sizes.map(grouped).join("×");
  }

  function setCell(cell, text, title) {
    if (!cell) return;
    cell.textContent = text;
    if (title !== undefined) cell.title = title;
  }

  function fieldText(field) {
    return field ? field.size.join("×") : "";
  }

  function show(root, result) {
    const table = root.querySelector(".cnn-layers table");
    const status = root.querySelector(".cnn-recompute-status");
    const errors = root.querySelector(".cnn-recompute-errors");
    if (errors) errors.textContent = "";
    if (result.errors) {
      if (errors) {
        for (const line of result.errors) {
          const item = document.createElement("li");
          item.textContent = line; // an author's names stay text
          errors.appendChild(item);
        }
      }
      if (status) status.textContent = "The command line gives these errors for this input size:";
      root.classList.add("cnn-recomputed-error");
      return;
    }
    root.classList.remove("cnn-recomputed-error");
    if (status) status.textContent = `Recomputed for ${shapeText(result.input)}.`;
    if (!table) return;
    const byRow = {};
    for (const tr of table.querySelectorAll("tr[data-row]")) byRow[tr.dataset.row] = tr;
    const fill = (tr, output, figures, totals) => {
      if (!tr) return;
      if (output) setCell(tr.querySelector(".cnn-shape"), shapeText(output));
      for (const cell of tr.querySelectorAll("[data-figure]")) {
        const key = cell.dataset.figure;
        const value = figures[key];
        if (value === undefined) continue;
        if (value === null || typeof value === "object") {
          setCell(cell, fieldText(value), value ? `jump ${value.jump.join("×")}, offset ${value.offset.join(", ")}` : "");
        } else {
          setCell(cell, grouped(value));
        }
      }
      if (totals) for (const cell of tr.querySelectorAll("[data-figure]")) if (totals[cell.dataset.figure] === undefined) cell.textContent = "";
    };
    fill(byRow.input, result.input, {});
    result.layers.forEach((layer, i) => fill(byRow[String(i + 1)], layer.output, layer));
    fill(byRow.output, result.layers.length ? result.layers[result.layers.length - 1].output : result.input, {});
    for (const tr of table.querySelectorAll("tr[data-group]")) {
      const rows = groupRows(table, tr.dataset.group);
      const sums = {};
      for (const cell of tr.querySelectorAll("[data-figure]")) {
        const key = cell.dataset.figure;
        sums[key] = rows.reduce((s, k) => s + BigInt(result.layers[k - 1][key] || 0), 0n);
      }
      fill(tr, null, sums);
    }
    if (byRow.total) fill(byRow.total, null, result.totals);
    for (const node of root.querySelectorAll("[data-total]")) {
      const value = result.totals[node.dataset.total];
      if (value !== undefined) node.textContent = grouped(value);
    }
  }

  /* The layer rows (1-based) a group's header row stands for. */
  function groupRows(table, group) {
    const rows = [];
    for (const tr of table.querySelectorAll("tr[data-row][data-in]")) {
      if ((" " + tr.dataset.in + " ").includes(" " + group + " ")) rows.push(Number(tr.dataset.row));
    }
    return rows;
  }

  function fold(table) {
    for (const button of table.querySelectorAll("button[data-fold]")) {
      button.addEventListener("click", () => {
        const open = button.getAttribute("aria-expanded") !== "true";
        button.setAttribute("aria-expanded", String(open));
        const group = button.dataset.fold;
        for (const tr of table.querySelectorAll("tr[data-in]")) {
          const groups = tr.dataset.in.split(" ");
          const index = groups.indexOf(group);
          if (index < 0 || tr.dataset.group === group) continue;
          // a row shows when every group that holds it is open
          const hidden = groups.some((g) => {
            if (g === tr.dataset.group) return false;
            const b = table.querySelector(`button[data-fold="${CSS.escape(g)}"]`);
            return b && b.getAttribute("aria-expanded") !== "true";
          });
          tr.hidden = hidden;
        }
      });
    }
  }

  function control(root, page) {
    const form = root.querySelector("form.cnn-recompute-form");
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
      const result = run(pages[0], shape);
      const root = document.querySelector(".cnn-recompute-root");
      if (root) show(root, result);
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
    const root = document.querySelector(".cnn-recompute-root");
    if (root && pages.length) control(root, pages[0]);
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
