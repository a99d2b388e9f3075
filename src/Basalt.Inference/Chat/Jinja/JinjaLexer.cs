using System.Globalization;
using System.Text;

namespace Basalt.Inference.Chat.Jinja;

/// <summary>What the lexer produces: literal text, or the inside of a {{ … }} or {% … %} tag, with its position.</summary>
internal readonly record struct Segment(SegmentKind Kind, string Text, int Line, int Column);

internal enum SegmentKind { Text, Output, Statement }

internal enum TokenKind { Name, String, Integer, Float, Operator, End }

internal readonly record struct Token(TokenKind Kind, string Text, int Line, int Column);

/// <summary>
/// Splits a template into text and tags, applying the whitespace rules Hugging Face renders chat
/// templates with: <c>trim_blocks</c> (a newline right after a block tag goes), <c>lstrip_blocks</c>
/// (indentation before a block tag goes), and the explicit <c>-</c> markers on any tag.
/// </summary>
internal static class JinjaLexer
{
    public static List<Segment> Split(string source)
    {
        var segments = new List<Segment>();
        int pos = 0;
        var text = new StringBuilder();
        int textLine = 1, textCol = 1;
        bool textAtLineStart = true; // lstrip_blocks only strips indentation of a tag that starts its line
        while (pos < source.Length)
        {
            int open = FindTagStart(source, pos);
            if (open < 0)
            {
                text.Append(source, pos, source.Length - pos);
                break;
            }
            text.Append(source, pos, open - pos);
            char kind = source[open + 1];
            string close = kind switch { '{' => "}}", '%' => "%}", _ => "#}" };
            int bodyStart = open + 2;
            bool trimLeft = bodyStart < source.Length && source[bodyStart] == '-';
            if (trimLeft || (bodyStart < source.Length && source[bodyStart] == '+')) bodyStart++;
            int end = kind == '#' ? source.IndexOf(close, bodyStart, StringComparison.Ordinal) : FindClose(source, bodyStart, close);
            var (line, col) = Position(source, open);
            if (end < 0) throw new TemplateException($"line {line}, column {col}: '{source.Substring(open, 2)}' is never closed with '{close}'.");
            int bodyEnd = end;
            bool trimRight = bodyEnd > bodyStart && source[bodyEnd - 1] == '-';
            if (trimRight || (bodyEnd > bodyStart && source[bodyEnd - 1] == '+')) bodyEnd--;

            if (trimLeft) TrimEnd(text);
            else if (kind != '{') StripIndentation(text, textAtLineStart); // lstrip_blocks
            if (text.Length > 0) segments.Add(new Segment(SegmentKind.Text, text.ToString(), textLine, textCol));
            text.Clear();

            string body = source[bodyStart..bodyEnd];
            if (kind == '{') segments.Add(new Segment(SegmentKind.Output, body, line, col));
            else if (kind == '%') segments.Add(new Segment(SegmentKind.Statement, body, line, col));

            pos = end + 2;
            if (trimRight) while (pos < source.Length && char.IsWhiteSpace(source[pos])) pos++;
            else if (kind != '{' && pos < source.Length && source[pos] == '\n') pos++; // trim_blocks
            else if (kind != '{' && pos + 1 < source.Length && source[pos] == '\r' && source[pos + 1] == '\n') pos += 2;
            (textLine, textCol) = Position(source, pos);
            textAtLineStart = pos == 0 || source[pos - 1] == '\n';
        }
        if (text.Length > 0) segments.Add(new Segment(SegmentKind.Text, text.ToString(), textLine, textCol));
        return segments;
    }

    /// <summary>Where a tag closes, skipping string literals (a template may print "}}" itself).</summary>
    private static int FindClose(string s, int from, string close)
    {
        for (int i = from; i < s.Length; i++)
        {
            char c = s[i];
            if (c is '\'' or '"')
            {
                for (i++; i < s.Length && s[i] != c; i++)
                    if (s[i] == '\\') i++;
                continue;
            }
            if (c == close[0] && i + 1 < s.Length && s[i + 1] == close[1]) return i;
        }
        return -1;
    }

    private static int FindTagStart(string s, int from)
    {
        for (int i = s.IndexOf('{', from); i >= 0 && i + 1 < s.Length; i = s.IndexOf('{', i + 1))
            if (s[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    private static void TrimEnd(StringBuilder sb)
    {
        int n = sb.Length;
        while (n > 0 && char.IsWhiteSpace(sb[n - 1])) n--;
        sb.Length = n;
    }

    private static void StripIndentation(StringBuilder sb, bool startsAtLineStart)
    {
        int n = sb.Length;
        while (n > 0 && sb[n - 1] is ' ' or '\t') n--;
        if ((n == 0 && startsAtLineStart) || (n > 0 && sb[n - 1] == '\n')) sb.Length = n;
    }

    public static (int Line, int Column) Position(string s, int index)
    {
        int line = 1, col = 1;
        for (int i = 0; i < index && i < s.Length; i++)
        {
            if (s[i] == '\n') { line++; col = 1; }
            else col++;
        }
        return (line, col);
    }

    private static readonly string[] Operators = ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "(", ")", "[", "]", "{", "}", ",", ":", ".", "|", "="];

    /// <summary>Tokenizes the inside of a tag.</summary>
    public static List<Token> Tokenize(string body, int line, int column)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < body.Length)
        {
            char c = body[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            int at = column + i;
            if (char.IsLetter(c) || c == '_')
            {
                int start = i;
                while (i < body.Length && (char.IsLetterOrDigit(body[i]) || body[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.Name, body[start..i], line, at));
            }
            else if (char.IsDigit(c))
            {
                int start = i;
                while (i < body.Length && char.IsDigit(body[i])) i++;
                bool isFloat = i + 1 < body.Length && body[i] == '.' && char.IsDigit(body[i + 1]);
                if (isFloat)
                {
                    i++;
                    while (i < body.Length && char.IsDigit(body[i])) i++;
                }
                tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, body[start..i], line, at));
            }
            else if (c is '\'' or '"')
            {
                var sb = new StringBuilder();
                i++;
                while (i < body.Length && body[i] != c)
                {
                    if (body[i] == '\\' && i + 1 < body.Length)
                    {
                        i++;
                        sb.Append(body[i] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', '0' => '\0', _ => body[i] });
                    }
                    else sb.Append(body[i]);
                    i++;
                }
                if (i >= body.Length) throw new TemplateException($"line {line}, column {at}: string is never closed.");
                i++;
                tokens.Add(new Token(TokenKind.String, sb.ToString(), line, at));
            }
            else
            {
                string? op = Operators.FirstOrDefault(o => string.CompareOrdinal(body, i, o, 0, o.Length) == 0);
                if (op is null) throw new TemplateException($"line {line}, column {at}: unexpected character '{c}'.");
                tokens.Add(new Token(TokenKind.Operator, op, line, at));
                i += op.Length;
            }
        }
        tokens.Add(new Token(TokenKind.End, "", line, column + body.Length));
        return tokens;
    }

    public static double ParseFloat(string s) => double.Parse(s, CultureInfo.InvariantCulture);
}
