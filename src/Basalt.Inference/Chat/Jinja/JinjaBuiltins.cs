using System.Globalization;

namespace Basalt.Inference.Chat.Jinja;

/// <summary>Global functions, filters, tests, methods and operators that chat templates use.</summary>
internal static class JinjaBuiltins
{
    public static Dictionary<string, object?> Globals() => new(StringComparer.Ordinal)
    {
        ["raise_exception"] = (JinjaCallable)((args, _) => throw new TemplateException("the template raised an error: " + (args.Count > 0 ? JinjaValues.ToText(args[0]) : ""))),
        ["namespace"] = (JinjaCallable)((args, kwargs) =>
        {
            var ns = new JinjaNamespace();
            foreach (var (k, v) in kwargs) ns.Values[k] = v;
            return ns;
        }),
        ["range"] = (JinjaCallable)((args, _) =>
        {
            long start = 0, stop, step = 1;
            if (args.Count == 1) stop = AsLong(args[0]);
            else { start = AsLong(args[0]); stop = AsLong(args[1]); if (args.Count > 2) step = AsLong(args[2]); }
            if (step == 0) throw new TemplateException("range() step must not be zero.");
            var list = new List<object?>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) list.Add(i);
            return list;
        }),
        ["strftime_now"] = (JinjaCallable)((args, _) => StrFTime(DateTime.Now, args.Count > 0 ? JinjaValues.ToText(args[0]) : "%Y-%m-%d")),
    };

    private static long AsLong(object? v) => v is long l ? l : (long)JinjaValues.ToDouble(v);

    private static string StrFTime(DateTime t, string format) => format
        .Replace("%d", t.ToString("dd", CultureInfo.InvariantCulture)).Replace("%B", t.ToString("MMMM", CultureInfo.InvariantCulture))
        .Replace("%b", t.ToString("MMM", CultureInfo.InvariantCulture)).Replace("%Y", t.ToString("yyyy", CultureInfo.InvariantCulture))
        .Replace("%m", t.ToString("MM", CultureInfo.InvariantCulture)).Replace("%H", t.ToString("HH", CultureInfo.InvariantCulture))
        .Replace("%M", t.ToString("mm", CultureInfo.InvariantCulture));

    public static object? GetAttribute(object? target, string name) => target switch
    {
        Dictionary<string, object?> d when d.TryGetValue(name, out var v) => v,
        Dictionary<string, object?> d => DictMethod(d, name),
        JinjaNamespace ns => ns.Values.TryGetValue(name, out var v) ? v : Undefined.Instance,
        string s => StringMethod(s, name),
        List<object?> l => ListMethod(l, name),
        _ => Undefined.Instance,
    };

    public static object? GetItem(object? target, object? index) => target switch
    {
        Dictionary<string, object?> d => d.TryGetValue(JinjaValues.ToText(index), out var v) ? v : Undefined.Instance,
        JinjaNamespace ns => ns.Values.TryGetValue(JinjaValues.ToText(index), out var v) ? v : Undefined.Instance,
        List<object?> l when index is long i => i >= -l.Count && i < l.Count ? l[(int)(i < 0 ? i + l.Count : i)] : Undefined.Instance,
        string s when index is long i => i >= -s.Length && i < s.Length ? s[(int)(i < 0 ? i + s.Length : i)].ToString() : Undefined.Instance,
        null or Undefined => Undefined.Instance,
        _ => throw new TemplateException($"cannot index {JinjaValues.TypeName(target)} with {JinjaValues.TypeName(index)}."),
    };

    public static object? Slice(object? target, long? start, long? stop, long? step)
    {
        var items = target switch
        {
            List<object?> l => l,
            string s => s.Select(c => (object?)c.ToString()).ToList(),
            _ => throw new TemplateException($"cannot slice {JinjaValues.TypeName(target)}."),
        };
        int n = items.Count;
        long st = step ?? 1;
        if (st == 0) throw new TemplateException("slice step must not be zero.");
        long Clamp(long? v, long dflt, long lo, long hi) => v is not long x ? dflt : Math.Clamp(x < 0 ? x + n : x, lo, hi);
        var result = new List<object?>();
        if (st > 0)
            for (long i = Clamp(start, 0, 0, n), end = Clamp(stop, n, 0, n); i < end; i += st) result.Add(items[(int)i]);
        else
            for (long i = Clamp(start, n - 1, -1, n - 1), end = Clamp(stop, -1, -1, n - 1); i > end; i += st) result.Add(items[(int)i]);
        return target is string ? string.Concat(result.Select(JinjaValues.ToText)) : result;
    }

    public static bool Contains(object? container, object? item) => container switch
    {
        string s => s.Contains(JinjaValues.ToText(item), StringComparison.Ordinal),
        List<object?> l => l.Any(x => JinjaValues.AreEqual(x, item)),
        Dictionary<string, object?> d => item is string k && d.ContainsKey(k),
        JinjaNamespace ns => item is string k && ns.Values.ContainsKey(k),
        null or Undefined => false,
        _ => throw new TemplateException($"'in' needs a string, list or dict, got {JinjaValues.TypeName(container)}."),
    };

    public static object? Arithmetic(string op, object? a, object? b)
    {
        if (op == "+" && a is string sa && b is string sb) return sa + sb;
        if (op == "+" && a is List<object?> la && b is List<object?> lb) return la.Concat(lb).ToList();
        if (op == "*" && a is string s && b is long times) return string.Concat(Enumerable.Repeat(s, (int)Math.Max(0, times)));
        if (!JinjaValues.IsNumber(a) || !JinjaValues.IsNumber(b))
            throw new TemplateException($"cannot apply '{op}' to {JinjaValues.TypeName(a)} and {JinjaValues.TypeName(b)}.");
        if (a is long x && b is long y && op != "/")
        {
            if (op is "//" or "%" && y == 0) throw new TemplateException("division by zero.");
            return op switch
            {
                "+" => x + y, "-" => x - y, "*" => x * y,
                "//" => (long)Math.Floor((double)x / y),
                _ => ((x % y) + y) % y,
            };
        }
        double p = JinjaValues.ToDouble(a), q = JinjaValues.ToDouble(b);
        return op switch
        {
            "+" => p + q, "-" => p - q, "*" => p * q,
            "/" => q == 0 ? throw new TemplateException("division by zero.") : p / q,
            "//" => Math.Floor(p / q),
            _ => p - q * Math.Floor(p / q),
        };
    }

    private static object? StringMethod(string s, string name) => name switch
    {
        "strip" => (JinjaCallable)((a, _) => a.Count > 0 ? s.Trim(JinjaValues.ToText(a[0]).ToCharArray()) : s.Trim()),
        "lstrip" => (JinjaCallable)((a, _) => a.Count > 0 ? s.TrimStart(JinjaValues.ToText(a[0]).ToCharArray()) : s.TrimStart()),
        "rstrip" => (JinjaCallable)((a, _) => a.Count > 0 ? s.TrimEnd(JinjaValues.ToText(a[0]).ToCharArray()) : s.TrimEnd()),
        "upper" => (JinjaCallable)((_, _) => s.ToUpperInvariant()),
        "lower" => (JinjaCallable)((_, _) => s.ToLowerInvariant()),
        "title" => (JinjaCallable)((_, _) => Title(s)),
        "capitalize" => (JinjaCallable)((_, _) => Capitalize(s)),
        "startswith" => (JinjaCallable)((a, _) => StartsOrEndsWith(s, a[0], start: true)),
        "endswith" => (JinjaCallable)((a, _) => StartsOrEndsWith(s, a[0], start: false)),
        "split" => (JinjaCallable)((a, _) => (a.Count > 0 && a[0] is string sep
            ? s.Split(sep)
            : s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).Select(x => (object?)x).ToList()),
        "replace" => (JinjaCallable)((a, _) => s.Replace(JinjaValues.ToText(a[0]), JinjaValues.ToText(a[1]), StringComparison.Ordinal)),
        "find" => (JinjaCallable)((a, _) => (long)s.IndexOf(JinjaValues.ToText(a[0]), StringComparison.Ordinal)),
        "count" => (JinjaCallable)((a, _) => (long)CountOccurrences(s, JinjaValues.ToText(a[0]))),
        "join" => (JinjaCallable)((a, _) => string.Join(s, JinjaValues.Iterate(a[0]).Select(JinjaValues.ToText))),
        "format" => (JinjaCallable)((a, _) => FormatPercent(s, a)),
        _ => Undefined.Instance,
    };

    private static bool StartsOrEndsWith(string s, object? arg, bool start)
    {
        var options = arg is List<object?> l ? l.Select(JinjaValues.ToText) : [JinjaValues.ToText(arg)];
        return options.Any(o => start ? s.StartsWith(o, StringComparison.Ordinal) : s.EndsWith(o, StringComparison.Ordinal));
    }

    private static int CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0) return s.Length + 1;
        int n = 0;
        for (int i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private static string FormatPercent(string s, List<object?> args)
    {
        int next = 0;
        return System.Text.RegularExpressions.Regex.Replace(s, "%[sd]", _ => next < args.Count ? JinjaValues.ToText(args[next++]) : "");
    }

    private static string Title(string s) =>
        string.Join(" ", s.Split(' ').Select(Capitalize));

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    private static object? DictMethod(Dictionary<string, object?> d, string name) => name switch
    {
        "items" => (JinjaCallable)((_, _) => d.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList()),
        "keys" => (JinjaCallable)((_, _) => d.Keys.Select(k => (object?)k).ToList()),
        "values" => (JinjaCallable)((_, _) => d.Values.ToList()),
        "get" => (JinjaCallable)((a, _) => d.TryGetValue(JinjaValues.ToText(a[0]), out var v) ? v : a.Count > 1 ? a[1] : null),
        _ => Undefined.Instance,
    };

    private static object? ListMethod(List<object?> l, string name) => name switch
    {
        "append" => (JinjaCallable)((a, _) => { l.Add(a[0]); return null; }),
        "index" => (JinjaCallable)((a, _) => (long)l.FindIndex(x => JinjaValues.AreEqual(x, a[0]))),
        "count" => (JinjaCallable)((a, _) => (long)l.Count(x => JinjaValues.AreEqual(x, a[0]))),
        _ => Undefined.Instance,
    };

    public static object? ApplyFilter(string name, object? v, List<object?> a, Dictionary<string, object?> kw) => name switch
    {
        "trim" => JinjaValues.ToText(v).Trim(),
        "upper" => JinjaValues.ToText(v).ToUpperInvariant(),
        "lower" => JinjaValues.ToText(v).ToLowerInvariant(),
        "capitalize" => Capitalize(JinjaValues.ToText(v)),
        "title" => Title(JinjaValues.ToText(v)),
        "length" or "count" => (long)(v switch { string s => s.Length, Dictionary<string, object?> d => d.Count, _ => JinjaValues.Iterate(v).Count }),
        "first" => JinjaValues.Iterate(v) is { Count: > 0 } f ? f[0] : Undefined.Instance,
        "last" => JinjaValues.Iterate(v) is { Count: > 0 } l ? l[^1] : Undefined.Instance,
        "join" => string.Join(a.Count > 0 ? JinjaValues.ToText(a[0]) : kw.TryGetValue("d", out var d2) ? JinjaValues.ToText(d2) : "",
            JinjaValues.Iterate(v).Select(x => kw.TryGetValue("attribute", out var attr) ? JinjaValues.ToText(GetAttribute(x, JinjaValues.ToText(attr))) : JinjaValues.ToText(x))),
        "replace" => JinjaValues.ToText(v).Replace(JinjaValues.ToText(a[0]), JinjaValues.ToText(a[1]), StringComparison.Ordinal),
        "default" or "d" => v is Undefined || (a.Count > 1 && JinjaValues.IsTrue(a[1]) && !JinjaValues.IsTrue(v)) ? (a.Count > 0 ? a[0] : "") : v,
        "tojson" => JinjaValues.ToJson(v, kw.TryGetValue("indent", out var ind) && ind is long i ? (int)i : a.Count > 0 && a[0] is long j ? (int)j : null),
        "string" => JinjaValues.ToText(v),
        "int" => v switch { long l => l, double dd => (long)dd, string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) => p, _ => 0L },
        "float" => v switch { long l => (double)l, double dd => dd, string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var p) => p, _ => 0.0 },
        "abs" => v is long l2 ? Math.Abs(l2) : Math.Abs(JinjaValues.ToDouble(v)),
        "list" => JinjaValues.Iterate(v).ToList(),
        "reverse" => v is string rs ? new string(rs.Reverse().ToArray()) : Enumerable.Reverse(JinjaValues.Iterate(v)).ToList(),
        "unique" => JinjaValues.Iterate(v).Aggregate(new List<object?>(), (acc, x) => { if (!acc.Any(y => JinjaValues.AreEqual(x, y))) acc.Add(x); return acc; }),
        "items" => v is Dictionary<string, object?> dict ? dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList() : throw new TemplateException("items needs a dict."),
        "safe" or "escape" or "e" => v,
        "map" => JinjaValues.Iterate(v).Select(x => kw.TryGetValue("attribute", out var attr) ? GetAttribute(x, JinjaValues.ToText(attr))
            : ApplyFilter(JinjaValues.ToText(a[0]), x, a.Skip(1).ToList(), [])).ToList(),
        "select" or "reject" => JinjaValues.Iterate(v).Where(x => (a.Count == 0 ? JinjaValues.IsTrue(x) : ApplyTest(JinjaValues.ToText(a[0]), x, a.Skip(1).ToList())) == (name == "select")).ToList(),
        "selectattr" or "rejectattr" => JinjaValues.Iterate(v).Where(x =>
        {
            var attr = GetAttribute(x, JinjaValues.ToText(a[0]));
            bool pass = a.Count == 1 ? JinjaValues.IsTrue(attr) : ApplyTest(JinjaValues.ToText(a[1]), attr, a.Skip(2).ToList());
            return pass == (name == "selectattr");
        }).ToList(),
        "indent" => Indent(JinjaValues.ToText(v), a.Count > 0 ? (int)AsLong(a[0]) : 4, a.Count > 1 && JinjaValues.IsTrue(a[1])),
        "round" => Math.Round(JinjaValues.ToDouble(v), a.Count > 0 ? (int)AsLong(a[0]) : 0, MidpointRounding.AwayFromZero),
        "wordcount" => (long)JinjaValues.ToText(v).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length,
        _ => throw new TemplateException($"unknown filter '{name}'."),
    };

    private static string Indent(string s, int width, bool first)
    {
        string pad = new(' ', width);
        var lines = s.Split('\n');
        return string.Join("\n", lines.Select((l, i) => (i > 0 || first) && l.Length > 0 ? pad + l : l));
    }

    public static bool ApplyTest(string name, object? v, List<object?> a) => name switch
    {
        "defined" => v is not Undefined,
        "undefined" => v is Undefined,
        "none" => v is null,
        "string" => v is string,
        "number" => v is long or double,
        "integer" => v is long,
        "float" => v is double,
        "boolean" => v is bool,
        "true" => v is true,
        "false" => v is false,
        "mapping" => v is Dictionary<string, object?> or JinjaNamespace,
        "sequence" or "iterable" => v is List<object?> or string or Dictionary<string, object?>,
        "callable" => v is JinjaCallable,
        "odd" => AsLong(v) % 2 != 0,
        "even" => AsLong(v) % 2 == 0,
        "divisibleby" => AsLong(v) % AsLong(a[0]) == 0,
        "equalto" or "eq" or "==" => JinjaValues.AreEqual(v, a[0]),
        "ne" or "!=" => !JinjaValues.AreEqual(v, a[0]),
        "in" => Contains(a[0], v),
        "lower" => v is string ls && ls == ls.ToLowerInvariant(),
        "upper" => v is string us && us == us.ToUpperInvariant(),
        _ => throw new TemplateException($"unknown test '{name}'."),
    };
}
