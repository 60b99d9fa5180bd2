/* global document */
// How one message of a thread looks: the author, the text as Markdown (markdown-it with HTML
// off, see markdown.js), the code that ran, images, files and notices. Text only ever reaches
// the page through textContent or that renderer.
import { codeBlock, renderMarkdown } from './markdown.js';

export function userMessage(item) {
  const node = el('article', { className: 'msg user' }, el('div', { className: 'author' }, 'you'));
  node.dataset.id = item.id;
  if (item.text.trim() !== '') node.append(markdownBlock(item.text));
  if (item.attachments.length > 0) node.append(fileChips(item.attachments));
  return node;
}

export function botMessage(item) {
  const node = el(
    'article',
    { className: 'msg bot' },
    el('div', { className: 'author' }, 'sandbot'),
  );
  node.dataset.id = item.id;
  if (item.text.trim() !== '') node.append(markdownBlock(item.text));
  let tables = 0;
  for (const display of item.displays ?? []) {
    if (display.kind === 'table') node.append(tableView(display, (tables += 1)));
    else if (display.kind === 'markdown') node.append(markdownBlock(display.text));
    else
      node.append(el('div', { className: 'display-code' }, codeBlock(display.text, display.kind)));
  }
  if (item.code.length > 0) {
    const details = el('details', { className: 'code-ran' });
    const label =
      item.code.length === 1 ? 'Code that ran' : `Code that ran (${item.code.length} cells)`;
    details.append(el('summary', {}, label));
    for (const code of item.code)
      details.append(el('div', { className: 'code-cell' }, codeBlock(code, 'python')));
    node.append(details);
  }
  if (item.images.length > 0) {
    const images = el('div', { className: 'images' });
    for (const image of item.images) {
      const img = el('img', { src: fileUrl(image), alt: image.name, loading: 'lazy' });
      images.append(el('a', { href: fileUrl(image), target: '_blank', rel: 'noopener' }, img));
    }
    node.append(images);
  }
  if (item.files.length > 0) node.append(fileChips(item.files, 'files'));
  for (const notice of item.notices)
    node.append(el('div', { className: 'notice' }, `⚠️ ${notice}`));
  return node;
}

/**
 * A table a cell showed, built from its data (column names, first rows, totals) with DOM
 * nodes and textContent: the page never receives a table as HTML.
 */
export function tableView(display, number) {
  const { table } = display;
  const head = el('tr', {});
  table.columns.forEach((column, k) => {
    const cell = el('th', { scope: 'col', title: column.type }, column.name);
    if (column.numeric) cell.className = 'num';
    if (k < table.indexColumns) cell.classList.add('index');
    head.append(cell);
  });
  const body = el('tbody', {});
  for (const row of table.rows) {
    const line = el('tr', {});
    row.forEach((value, k) => {
      const cell = el(k < table.indexColumns ? 'th' : 'td', {}, value);
      if (table.columns[k]?.numeric) cell.className = 'num';
      line.append(cell);
    });
    body.append(line);
  }
  const caption = el('figcaption', {}, `Table ${number} · ${tableSize(table)}`);
  const cutRows = table.rows.length < table.totalRows;
  if (cutRows) caption.append(` · first ${table.rows.length} rows shown`);
  if (display.csv !== undefined) {
    const whole = (display.csvRows ?? 0) >= table.totalRows;
    const link = el(
      'a',
      { href: `${fileUrl(display.csv)}?download`, download: display.csv.name },
      display.csv.name,
    );
    caption.append(whole ? ' · all of it in ' : ` · first ${display.csvRows} rows in `, link);
  }
  const grid = el('table', {}, el('thead', {}, head), body);
  return el(
    'figure',
    { className: 'table-display' },
    caption,
    el('div', { className: 'table-scroll' }, grid),
  );
}

function tableSize(table) {
  const rows = `${table.totalRows.toLocaleString('en-US')} row${table.totalRows === 1 ? '' : 's'}`;
  return `${rows} × ${table.totalColumns} column${table.totalColumns === 1 ? '' : 's'}`;
}

export function fileChips(files, className = 'attachments') {
  const list = el('ul', { className: `chips ${className}` });
  for (const file of files) {
    const link = el('a', { href: `${fileUrl(file)}?download`, download: file.name }, file.name);
    list.append(el('li', {}, link, ` (${formatBytes(file.sizeBytes)})`));
  }
  return list;
}

export function fileUrl(file) {
  return `/api/files/${encodeURIComponent(file.id)}`;
}

export function markdownBlock(text) {
  const block = el('div', { className: 'markdown' });
  block.append(renderMarkdown(text));
  return block;
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'className') node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
