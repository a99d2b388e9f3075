namespace Basalt.Gguf;

/// <summary>GGUF key/value metadata: ordered as in the file, with typed look-ups.</summary>
public sealed class GgufMetadata
{
    private readonly Dictionary<string, GgufValue> _byKey;

    /// <summary>Creates metadata from pairs in file order; keys must be unique.</summary>
    public GgufMetadata(IReadOnlyList<KeyValuePair<string, GgufValue>> entries)
    {
        Entries = entries;
        _byKey = new Dictionary<string, GgufValue>(entries.Count, StringComparer.Ordinal);
        foreach (var (k, v) in entries)
            if (!_byKey.TryAdd(k, v)) throw new ArgumentException($"Duplicate metadata key '{k}'.", nameof(entries));
    }

    /// <summary>All pairs in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Entries { get; }

    /// <summary>Number of pairs.</summary>
    public int Count => Entries.Count;

    /// <summary>Whether <paramref name="key"/> is present.</summary>
    public bool Contains(string key) => _byKey.ContainsKey(key);

    /// <summary>The value for <paramref name="key"/>, or null.</summary>
    public GgufValue? Find(string key) => _byKey.GetValueOrDefault(key);

    /// <summary>The value for <paramref name="key"/>; throws <see cref="KeyNotFoundException"/> naming the key when absent.</summary>
    public GgufValue Get(string key) =>
        _byKey.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"GGUF metadata has no key '{key}'.");

    /// <summary>A string value, or null when absent or not a string.</summary>
    public string? GetString(string key) => Find(key)?.Value as string;

    /// <summary>An integer value of any integer type, or null when absent or not an integer.</summary>
    public long? GetInt64(string key) => Find(key) is { IsInteger: true } v ? v.AsInt64() : null;

    /// <summary>A numeric value (float or integer), or null.</summary>
    public double? GetDouble(string key) => Find(key) is { } v && (v.IsInteger || v.Value is float or double) ? v.AsDouble() : null;

    /// <summary>A boolean value, or null.</summary>
    public bool? GetBool(string key) => Find(key)?.Value as bool?;

    /// <summary>An array value, or null.</summary>
    public GgufArray? GetArray(string key) => Find(key)?.Value as GgufArray;

    /// <summary>An array of <typeparamref name="T"/> elements, or null when absent or of another element type.</summary>
    public T[]? GetArray<T>(string key) => GetArray(key)?.Values as T[];
}
