/** The page's whole stylesheet, inlined so the demo needs no static files or build step. */
export const STYLES = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #dde2ea; --accent: #2f6fde; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6fa; color: var(--ink);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 34rem; margin: 3rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h1 span { color: var(--accent); }
.lead { color: var(--muted); margin: 0 0 1.5rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 1.25rem 1.5rem;
  margin-bottom: 1rem; box-shadow: 0 1px 2px rgb(0 0 0 / 4%); }
.card h2 { font-size: 1rem; margin: 0 0 .75rem; }
.flash { background: #e8f5ec; border-color: #b9e0c5; color: #1f5f33; }
.stat { font-size: 2.25rem; font-weight: 650; line-height: 1.1; margin: 0; }
.muted { color: var(--muted); margin: 0; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .25rem 1rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; }
form { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin: 0; }
input[type=text] { flex: 1 1 12rem; padding: .5rem .65rem; border: 1px solid var(--line);
  border-radius: 6px; font: inherit; }
label.check { color: var(--muted); display: flex; gap: .4rem; align-items: center; }
button { padding: .5rem 1rem; border: 0; border-radius: 6px; background: var(--accent); color: #fff;
  font: inherit; cursor: pointer; }
button.secondary { background: #e6e9ef; color: var(--ink); }
code { background: #eef1f6; padding: .1rem .3rem; border-radius: 4px; font-size: .9em; }
ul.devices { list-style: none; padding: 0; margin: 0; display: grid; gap: .75rem; }
li.device { display: grid; grid-template-columns: 1fr auto; gap: .15rem 1rem; align-items: center; }
li.device .browser { font-weight: 600; }
li.device .muted { grid-column: 1; font-size: .875rem; }
li.device form, li.device .this-device { grid-column: 2; grid-row: 1 / span 2; }
.this-device { color: var(--muted); font-size: .875rem; }
footer { color: var(--muted); font-size: .875rem; }
footer a { color: var(--accent); }
.note { font-size: .875rem; margin-top: .75rem; }
a { color: var(--accent); }
`
