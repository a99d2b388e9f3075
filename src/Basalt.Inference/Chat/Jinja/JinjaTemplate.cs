namespace Basalt.Inference.Chat.Jinja;

/// <summary>A parsed Jinja template (the subset chat templates use), rendered with plain .NET values.</summary>
internal sealed class JinjaTemplate
{
    private readonly IReadOnlyList<Stmt> _body;

    /// <summary>Parses <paramref name="source"/>.</summary>
    /// <exception cref="TemplateException">A syntax error, with its line and column.</exception>
    public JinjaTemplate(string source) => _body = JinjaParser.Parse(source);

    /// <summary>
    /// Renders with <paramref name="variables"/>: strings, bools, longs, doubles, null, and
    /// <c>List&lt;object?&gt;</c> / <c>Dictionary&lt;string, object?&gt;</c> of those.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> variables) => new JinjaInterpreter(variables).Render(_body);
}
