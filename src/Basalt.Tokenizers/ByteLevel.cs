namespace Basalt.Tokenizers;

/// <summary>
/// GPT-2's reversible byte-to-character table. Byte-level BPE vocabularies store every token as a
/// string of these characters, one per UTF-8 byte, so that no token contains whitespace or control
/// characters. Printable Latin-1 bytes stand for themselves; the other 68 bytes are given the code
/// points U+0100 upwards, in byte order.
/// </summary>
internal static class ByteLevel
{
    private static readonly char[] ByteToCharTable = BuildByteToChar();
    private static readonly short[] CharToByteTable = BuildCharToByte();

    /// <summary>The character that stands for <paramref name="b"/>.</summary>
    public static char ByteToChar(byte b) => ByteToCharTable[b];

    /// <summary>The byte that <paramref name="c"/> stands for, or false if it is not in the table.</summary>
    public static bool TryCharToByte(char c, out byte b)
    {
        if (c < CharToByteTable.Length && CharToByteTable[c] >= 0)
        {
            b = (byte)CharToByteTable[c];
            return true;
        }
        b = 0;
        return false;
    }

    /// <summary>Maps UTF-8 bytes to their table characters.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = bytes.Length <= 256 ? stackalloc char[bytes.Length] : new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToCharTable[bytes[i]];
        return new string(chars);
    }

    private static bool SelfMapped(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) table[b] = SelfMapped(b) ? (char)b : (char)next++;
        return table;
    }

    private static short[] BuildCharToByte()
    {
        // 256 + 68 remapped bytes: the highest table character is U+0143.
        var table = new short[256 + 68];
        Array.Fill(table, (short)-1);
        for (int b = 0; b < 256; b++) table[ByteToCharTable[b]] = (short)b;
        return table;
    }
}
