using Basalt.Tokenizers;

namespace Basalt.Server.OpenAI;

/// <summary>How a token id is shown in log-prob listings: its text and its raw UTF-8 bytes.</summary>
internal static class TokenText
{
    public static string Piece(Tokenizer tokenizer, int id) => tokenizer.TokenToPiece(id);

    public static int[] Bytes(Tokenizer tokenizer, int id) => [.. tokenizer.TokenToBytes(id).Select(b => (int)b)];
}
