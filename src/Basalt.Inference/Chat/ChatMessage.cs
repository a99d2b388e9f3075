namespace Basalt.Inference.Chat;

/// <summary>One turn of a conversation as chat templates see it.</summary>
/// <param name="Role">system, user, assistant (or another role the template knows).</param>
/// <param name="Content">The text of the turn.</param>
public sealed record ChatMessage(string Role, string Content);
