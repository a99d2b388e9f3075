// A small Markdown renderer for model answers. Model text is untrusted: every piece of it is
// HTML-escaped before any markup is added, and only markup built here reaches the page.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for use in HTML content and quoted attribute values. */
export function escapeHtml(text) {
  return text.replace(/[&<>"']/g, c => ESCAPES[c]);
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)\s*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;

/** Renders Markdown source to an HTML string that is safe to assign to innerHTML. */
export function renderMarkdown(source) {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const out = [];
  let paragraph = [];
  const flush = () => {
    if (paragraph.length > 0) out.push(`<p>${paragraph.map(renderInline).join('<br>')}</p>`);
    paragraph = [];
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m;
    if ((m = FENCE.exec(line))) {
      flush();
      const fence = m[1];
      const code = [];
      // An answer still streaming may not have closed its fence yet: show what there is as code.
      for (i++; i < lines.length && !(lines[i].trim().startsWith(fence[0].repeat(fence.length)) && lines[i].trim().replace(/[`~]/g, '') === ''); i++) {
        code.push(lines[i]);
      }
      const lang = m[2] ? ` data-lang="${escapeHtml(m[2])}"` : '';
      out.push(`<pre${lang}><code>${escapeHtml(code.join('\n'))}</code></pre>`);
    } else if ((m = HEADING.exec(line))) {
      flush();
      // Answers sit under the page's own headings, so levels start at h3.
      const level = Math.min(m[1].length + 2, 6);
      out.push(`<h${level}>${renderInline(m[2])}</h${level}>`);
    } else if (RULE.test(line)) {
      flush();
      out.push('<hr>');
    } else if (BULLET.test(line) || NUMBERED.test(line)) {
      flush();
      const ordered = !BULLET.test(line);
      const pattern = ordered ? NUMBERED : BULLET;
      const items = [];
      const start = ordered ? Number(NUMBERED.exec(line)[1]) : 1;
      for (; i < lines.length && pattern.test(lines[i]); i++) {
        const item = pattern.exec(lines[i]);
        const parts = [item[ordered ? 2 : 1]];
        // Indented lines that follow belong to the same item.
        while (i + 1 < lines.length && /^\s{2,}\S/.test(lines[i + 1]) && !BULLET.test(lines[i + 1]) && !NUMBERED.test(lines[i + 1])) {
          parts.push(lines[++i].trim());
        }
        items.push(`<li>${parts.map(renderInline).join('<br>')}</li>`);
      }
      i--;
      const tag = ordered ? 'ol' : 'ul';
      const startAttr = ordered && start !== 1 ? ` start="${start}"` : '';
      out.push(`<${tag}${startAttr}>${items.join('')}</${tag}>`);
    } else if ((m = QUOTE.exec(line))) {
      flush();
      const quoted = [m[1]];
      for (; i + 1 < lines.length && QUOTE.test(lines[i + 1]); i++) quoted.push(QUOTE.exec(lines[i + 1])[1]);
      out.push(`<blockquote>${renderMarkdown(quoted.join('\n'))}</blockquote>`);
    } else if (line.trim() === '') {
      flush();
    } else {
      paragraph.push(line);
    }
  }
  flush();
  return out.join('');
}

const SAFE_URL = /^(https?:\/\/|mailto:)/i;

/** Renders one line's inline Markdown: code spans, links, bold and italic. */
export function renderInline(text) {
  // Code spans and links are swapped for placeholders first so emphasis rules never reach into them.
  const held = [];
  const hold = html => `\u0000${held.push(html) - 1}\u0000`;
  let s = text.replace(/\u0000/g, '');
  s = s.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_, _ticks, code) => hold(`<code>${escapeHtml(code.trim() || code)}</code>`));
  s = s.replace(/\[([^\]\n]+)\]\(\s*<?([^\s)<>]+)>?\s*\)/g, (whole, label, url) => {
    if (!SAFE_URL.test(url)) return whole;
    return hold(`<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${emphasis(escapeHtml(label))}</a>`);
  });
  s = s.replace(/\bhttps?:\/\/[^\s<>"'\u0000]*[^\s<>"'.,;:!?)\]\u0000]/g, url =>
    hold(`<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(url)}</a>`));
  s = emphasis(escapeHtml(s));
  // A link's label may hold a code span, so restored pieces are resolved again.
  const restore = html => html.replace(/\u0000(\d+)\u0000/g, (_, n) => restore(held[Number(n)]));
  return restore(s);
}

function emphasis(html) {
  return html
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, '$1<strong>$2</strong>')
    .replace(/(^|[^*\w])\*([^\s*](?:[^*]*?[^\s*])?)\*(?!\*)/g, '$1<em>$2</em>')
    .replace(/(^|[^\w])_([^\s_](?:[^_]*?[^\s_])?)_(?!\w)/g, '$1<em>$2</em>')
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, '<del>$1</del>');
}
