using System.Globalization;
using System.Text;

namespace Basalt.Inference.Chat.Jinja;

/// <summary>The value of a name that is not defined: renders as nothing, is false, and yields itself from attribute access.</summary>
internal sealed class Undefined
{
    public static readonly Undefined Instance = new();

    private Undefined() { }

    public override string ToString() => "";
}

/// <summary>A <c>namespace(...)</c> object: attributes that loops can assign to.</summary>
internal sealed class JinjaNamespace
{
    public Dictionary<string, object?> Values { get; } = new(StringComparer.Ordinal);
}

/// <summary>Something a template can call: a global function, a bound method or a macro.</summary>
internal delegate object? JinjaCallable(List<object?> args, Dictionary<string, object?> kwargs);

/// <summary>Python-like semantics of template values: truth, equality, ordering, text.</summary>
internal static class JinjaValues
{
    public static bool IsTrue(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        Dictionary<string, object?> d => d.Count > 0,
        _ => true,
    };

    public static string ToText(object? v) => v switch
    {
        null => "None",
        Undefined => "",
        bool b => b ? "True" : "False",
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatDouble(d),
        List<object?> or Dictionary<string, object?> => Repr(v),
        _ => v.ToString() ?? "",
    };

    private static string FormatDouble(double d)
    {
        if (double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) < 1e16) return d.ToString("0.0", CultureInfo.InvariantCulture);
        return d.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>Python's repr, as printing a list or dict inside a template shows it.</summary>
    public static string Repr(object? v) => v switch
    {
        string s => "'" + s.Replace("\\", "\\\\").Replace("'", "\\'").Replace("\n", "\\n") + "'",
        List<object?> l => "[" + string.Join(", ", l.Select(Repr)) + "]",
        Dictionary<string, object?> d => "{" + string.Join(", ", d.Select(kv => Repr(kv.Key) + ": " + Repr(kv.Value))) + "}",
        _ => ToText(v),
    };

    public static bool AreEqual(object? a, object? b)
    {
        if (a is Undefined) a = null;
        if (b is Undefined) b = null;
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a) == ToDouble(b);
        if (a is List<object?> la && b is List<object?> lb) return la.Count == lb.Count && la.Zip(lb).All(p => AreEqual(p.First, p.Second));
        return a.Equals(b);
    }

    public static int Compare(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a).CompareTo(ToDouble(b));
        if (a is string sa && b is string sb) return string.CompareOrdinal(sa, sb);
        throw new TemplateException($"cannot compare {TypeName(a)} with {TypeName(b)}.");
    }

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new TemplateException($"expected a number, got {TypeName(v)}."),
    };

    public static string TypeName(object? v) => v switch
    {
        null => "none",
        Undefined => "undefined",
        bool => "boolean",
        long => "integer",
        double => "float",
        string => "string",
        List<object?> => "list",
        Dictionary<string, object?> => "dict",
        _ => v.GetType().Name,
    };

    /// <summary>The items a for loop visits: list elements, string characters, or dict keys.</summary>
    public static List<object?> Iterate(object? v) => v switch
    {
        List<object?> l => l,
        Dictionary<string, object?> d => d.Keys.Cast<object?>().ToList(),
        string s => s.Select(c => (object?)c.ToString()).ToList(),
        null or Undefined => [],
        _ => throw new TemplateException($"{TypeName(v)} is not iterable."),
    };

    /// <summary>JSON as Python's json.dumps writes it by default (", " and ": " separators), which Hugging Face's tojson uses.</summary>
    public static string ToJson(object? v, int? indent = null)
    {
        var sb = new StringBuilder();
        WriteJson(sb, v, indent, 0);
        return sb.ToString();
    }

    private static void WriteJson(StringBuilder sb, object? v, int? indent, int depth)
    {
        switch (v)
        {
            case null or Undefined: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long or double: sb.Append(ToText(v)); break;
            case string s: sb.Append(System.Text.Json.JsonSerializer.Serialize(s, JsonOptions)); break;
            case List<object?> l:
                WriteContainer(sb, '[', ']', l.Count, indent, depth, i => WriteJson(sb, l[i], indent, depth + 1));
                break;
            case Dictionary<string, object?> d:
                var pairs = d.ToList();
                WriteContainer(sb, '{', '}', pairs.Count, indent, depth, i =>
                {
                    sb.Append(System.Text.Json.JsonSerializer.Serialize(pairs[i].Key, JsonOptions)).Append(": ");
                    WriteJson(sb, pairs[i].Value, indent, depth + 1);
                });
                break;
            default: sb.Append(System.Text.Json.JsonSerializer.Serialize(ToText(v), JsonOptions)); break;
        }
    }

    private static void WriteContainer(StringBuilder sb, char open, char close, int count, int? indent, int depth, Action<int> item)
    {
        sb.Append(open);
        for (int i = 0; i < count; i++)
        {
            if (indent is int n) sb.Append('\n').Append(' ', n * (depth + 1));
            else if (i > 0) sb.Append(' ');
            item(i);
            if (i < count - 1) sb.Append(',');
        }
        if (indent is int m && count > 0) sb.Append('\n').Append(' ', m * depth);
        sb.Append(close);
    }

    private static readonly System.Text.Json.JsonSerializerOptions JsonOptions = new()
    {
        // ensure_ascii=False: non-ASCII stays as is.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
