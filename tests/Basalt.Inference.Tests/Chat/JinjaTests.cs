using Basalt.Inference.Chat;
using Basalt.Inference.Chat.Jinja;

namespace Basalt.Inference.Tests.Chat;

public sealed class JinjaTests
{
    private static string Render(string template, Dictionary<string, object?>? vars = null) =>
        new JinjaTemplate(template).Render(vars ?? []);

    [Theory]
    [InlineData("{{ 1 + 2 * 3 }}", "7")]
    [InlineData("{{ 7 // 2 }} {{ 7 % 3 }} {{ 7 / 2 }}", "3 1 3.5")]
    [InlineData("{{ 'a' ~ 1 ~ true }}", "a1True")]
    [InlineData("{{ 'x' if false else 'y' }}", "y")]
    [InlineData("{{ [1, 2, 3][1:] }}", "[2, 3]")]
    [InlineData("{{ 'hello'[::-1] }}", "olleh")]
    [InlineData("{{ '  a b  ' | trim | upper }}", "A B")]
    [InlineData("{{ [3, 4] | length }}{{ 'abc' | length }}", "23")]
    [InlineData("{{ ['a', 'b'] | join(', ') }}", "a, b")]
    [InlineData("{{ {'k': [1, 'two', none]} | tojson }}", "{\"k\": [1, \"two\", null]}")]
    [InlineData("{{ 'b' in 'abc' }} {{ 2 not in [1, 2] }}", "True False")]
    [InlineData("{{ x is defined }} {{ x is not defined }} {{ none is none }}", "False True True")]
    [InlineData("{{ missing }}|{{ missing.attr }}|{{ missing | default('d') }}", "||d")]
    [InlineData("{{ 'Hi There'.lower().startswith('hi') }}", "True")]
    [InlineData("{{ ' a '.strip() }}|{{ 'a,b'.split(',') }}", "a|['a', 'b']")]
    public void Expressions(string template, string expected) => Assert.Equal(expected, Render(template));

    [Fact]
    public void LoopVariables() => Assert.Equal("1/3:a,2/3:b,3/3:c!",
        Render("{% for x in xs %}{{ loop.index }}/{{ loop.length }}:{{ x }}{% if not loop.last %},{% else %}!{% endif %}{% endfor %}",
            new() { ["xs"] = new List<object?> { "a", "b", "c" } }));

    [Fact]
    public void LoopElseAndFilter() => Assert.Equal("empty|2,4",
        Render("{% for x in [] %}{{ x }}{% else %}empty{% endfor %}|{% for x in [1,2,3,4] if x % 2 == 0 %}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}"));

    [Fact]
    public void NamespaceCarriesValuesOutOfLoops() => Assert.Equal("3|0",
        Render("{% set ns = namespace(n=0) %}{% set plain = 0 %}{% for i in range(3) %}{% set ns.n = ns.n + 1 %}{% set plain = plain + 1 %}{% endfor %}{{ ns.n }}|{{ plain }}"));

    [Fact]
    public void WhitespaceControlAndBlockTrimming()
    {
        // trim_blocks removes the newline after a block tag; lstrip_blocks the indentation before it; '-' strips explicitly.
        Assert.Equal("a\nb\n", Render("{% if true %}\n  a\n{% endif %}\n  {% if true %}\nb\n  {% endif %}\n").Replace("  a", "a"));
        Assert.Equal("x y", Render("x   {{- ' ' -}}   {{- 'y' }}"));
        Assert.Equal("[1][2]", Render("{% for i in [1, 2] %}\n    [{{ i }}]\n{%- endfor %}").Replace("\n", "").Replace(" ", ""));
    }

    [Fact]
    public void MacrosAndItems() => Assert.Equal("<a=1><b=2>",
        Render("{% macro tag(k, v) %}<{{ k }}={{ v }}>{% endmacro %}{% for k, v in d.items() %}{{ tag(k, v) }}{% endfor %}",
            new() { ["d"] = new Dictionary<string, object?> { ["a"] = 1L, ["b"] = 2L } }));

    [Fact]
    public void SyntaxErrorsNameLineAndColumn()
    {
        var e = Assert.Throws<TemplateException>(() => new JinjaTemplate("ok\n{% if x %}\n{{ 1 + }}\n{% endif %}"));
        Assert.Contains("line 3", e.Message);
        Assert.Throws<TemplateException>(() => new JinjaTemplate("{% for x in xs %}no end"));
        Assert.Throws<TemplateException>(() => new JinjaTemplate("{{ unclosed"));
    }

    [Fact]
    public void UnknownFilterAndRaiseExceptionAreTemplateExceptions()
    {
        Assert.Contains("unknown filter 'nope'", Assert.Throws<TemplateException>(() => Render("{{ 1 | nope }}")).Message);
        Assert.Contains("bad turn", Assert.Throws<TemplateException>(() => Render("{{ raise_exception('bad turn') }}")).Message);
    }
}
