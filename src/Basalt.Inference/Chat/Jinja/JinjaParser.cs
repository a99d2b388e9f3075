using System.Globalization;

namespace Basalt.Inference.Chat.Jinja;

/// <summary>Builds the syntax tree from lexer segments: statements by recursive descent over tags, expressions by precedence.</summary>
internal sealed class JinjaParser
{
    private readonly List<Segment> _segments;
    private int _next;

    private JinjaParser(List<Segment> segments) => _segments = segments;

    public static IReadOnlyList<Stmt> Parse(string source)
    {
        var parser = new JinjaParser(JinjaLexer.Split(source));
        var body = parser.ParseBody(out var stop);
        if (stop is not null) throw Error(stop.Value, $"unexpected '{{% {stop.Value.Keyword} %}}'");
        return body;
    }

    private readonly record struct Stop(string Keyword, TokenStream Tokens, int Line, int Column);

    private static TemplateException Error(Stop at, string message) => new($"line {at.Line}, column {at.Column}: {message}.");

    /// <summary>Statements until the end or until a closing/continuing tag (endif, else, …), which is returned in <paramref name="stop"/>.</summary>
    private List<Stmt> ParseBody(out Stop? stop, params string[] stops)
    {
        var body = new List<Stmt>();
        while (_next < _segments.Count)
        {
            var seg = _segments[_next++];
            if (seg.Kind == SegmentKind.Text) { body.Add(new TextStmt(seg.Text)); continue; }
            var tokens = new TokenStream(JinjaLexer.Tokenize(seg.Text, seg.Line, seg.Column));
            if (seg.Kind == SegmentKind.Output)
            {
                body.Add(new OutputStmt(tokens.ParseExpression()));
                tokens.ExpectEnd();
                continue;
            }
            var keyword = tokens.ExpectName();
            if (stops.Contains(keyword.Text) || keyword.Text.StartsWith("end", StringComparison.Ordinal) || keyword.Text is "else" or "elif")
            {
                stop = new Stop(keyword.Text, tokens, seg.Line, seg.Column);
                if (!stops.Contains(keyword.Text) && keyword.Text is not ("endgeneration")) throw Error(stop.Value, $"unexpected '{{% {keyword.Text} %}}'");
                if (keyword.Text == "endgeneration") continue;
                return body;
            }
            var at = new Stop(keyword.Text, tokens, seg.Line, seg.Column);
            switch (keyword.Text)
            {
                case "if": body.Add(ParseIf(tokens, at)); break;
                case "for": body.Add(ParseFor(tokens, at)); break;
                case "set": body.Add(ParseSet(tokens, at)); break;
                case "macro": body.Add(ParseMacro(tokens, at)); break;
                case "call": body.Add(ParseCallBlock(tokens, at)); break;
                case "generation": break; // marks assistant spans for training masks; renders nothing
                default: throw Error(at, $"unknown tag '{keyword.Text}'");
            }
        }
        stop = null;
        if (stops.Length > 0) throw new TemplateException($"end of template: expected {{% {stops[^1]} %}}.");
        return body;
    }

    private IfStmt ParseIf(TokenStream tokens, Stop at)
    {
        var branches = new List<(Expr, IReadOnlyList<Stmt>)>();
        var condition = tokens.ParseExpression();
        tokens.ExpectEnd();
        while (true)
        {
            var body = ParseBody(out var stop, "elif", "else", "endif");
            branches.Add((condition, body));
            switch (stop!.Value.Keyword)
            {
                case "elif":
                    condition = stop.Value.Tokens.ParseExpression();
                    stop.Value.Tokens.ExpectEnd();
                    continue;
                case "else":
                    stop.Value.Tokens.ExpectEnd();
                    var elseBody = ParseBody(out _, "endif");
                    return new IfStmt(branches, elseBody);
                default:
                    return new IfStmt(branches, null);
            }
        }
    }

    private ForStmt ParseFor(TokenStream tokens, Stop at)
    {
        var targets = new List<string> { tokens.ExpectName().Text };
        while (tokens.TryOperator(",")) targets.Add(tokens.ExpectName().Text);
        if (tokens.ExpectName().Text != "in") throw Error(at, "expected 'in' in for loop");
        var iterable = tokens.ParseExpression(allowConditional: false);
        Expr? filter = tokens.TryName("if") ? tokens.ParseExpression() : null;
        tokens.TryName("recursive");
        tokens.ExpectEnd();
        var body = ParseBody(out var stop, "else", "endfor");
        List<Stmt>? elseBody = null;
        if (stop!.Value.Keyword == "else") elseBody = ParseBody(out _, "endfor");
        return new ForStmt(targets, iterable, filter, body, elseBody);
    }

    private Stmt ParseSet(TokenStream tokens, Stop at)
    {
        string name = tokens.ExpectName().Text;
        string? attribute = tokens.TryOperator(".") ? tokens.ExpectName().Text : null;
        if (attribute is null && tokens.AtEnd)
            return new SetBlockStmt(name, ParseBody(out _, "endset"));
        if (!tokens.TryOperator("=")) throw Error(at, "expected '=' in set");
        var value = tokens.ParseExpression();
        tokens.ExpectEnd();
        return new SetStmt(name, attribute, value);
    }

    private MacroStmt ParseMacro(TokenStream tokens, Stop at)
    {
        string name = tokens.ExpectName().Text;
        var parameters = new List<(string, Expr?)>();
        tokens.ExpectOperator("(");
        while (!tokens.TryOperator(")"))
        {
            string p = tokens.ExpectName().Text;
            parameters.Add((p, tokens.TryOperator("=") ? tokens.ParseExpression() : null));
            tokens.TryOperator(",");
        }
        tokens.ExpectEnd();
        return new MacroStmt(name, parameters, ParseBody(out _, "endmacro"));
    }

    private CallBlockStmt ParseCallBlock(TokenStream tokens, Stop at)
    {
        var call = tokens.ParseExpression();
        tokens.ExpectEnd();
        return new CallBlockStmt(call, ParseBody(out _, "endcall"));
    }
}

/// <summary>The tokens of one tag, with the expression grammar over them.</summary>
internal sealed class TokenStream(List<Token> tokens)
{
    private int _pos;

    private Token Peek => tokens[_pos];

    public bool AtEnd => Peek.Kind == TokenKind.End;

    private TemplateException Error(string message) => new($"line {Peek.Line}, column {Peek.Column}: {message}, found '{(AtEnd ? "end of tag" : Peek.Text)}'.");

    public void ExpectEnd()
    {
        if (!AtEnd) throw Error("expected the end of the tag");
    }

    public Token ExpectName()
    {
        if (Peek.Kind != TokenKind.Name) throw Error("expected a name");
        return tokens[_pos++];
    }

    public void ExpectOperator(string op)
    {
        if (!TryOperator(op)) throw Error($"expected '{op}'");
    }

    public bool TryOperator(string op)
    {
        if (Peek.Kind != TokenKind.Operator || Peek.Text != op) return false;
        _pos++;
        return true;
    }

    public bool TryName(string name)
    {
        if (Peek.Kind != TokenKind.Name || Peek.Text != name) return false;
        _pos++;
        return true;
    }

    private bool PeekName(string name, int ahead = 0) =>
        _pos + ahead < tokens.Count && tokens[_pos + ahead].Kind == TokenKind.Name && tokens[_pos + ahead].Text == name;

    public Expr ParseExpression(bool allowConditional = true)
    {
        var start = Peek;
        var value = ParseOr();
        if (allowConditional && TryName("if"))
        {
            var condition = ParseOr();
            Expr? otherwise = TryName("else") ? ParseExpression() : null;
            return new ConditionalExpr(condition, value, otherwise, start.Line, start.Column);
        }
        return value;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (PeekName("or")) { var t = tokens[_pos++]; left = new BinaryExpr("or", left, ParseAnd(), t.Line, t.Column); }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (PeekName("and")) { var t = tokens[_pos++]; left = new BinaryExpr("and", left, ParseNot(), t.Line, t.Column); }
        return left;
    }

    private Expr ParseNot()
    {
        if (PeekName("not")) { var t = tokens[_pos++]; return new UnaryExpr("not", ParseNot(), t.Line, t.Column); }
        return ParseComparison();
    }

    private static readonly string[] Comparisons = ["==", "!=", "<", "<=", ">", ">="];

    private Expr ParseComparison()
    {
        var left = ParseConcat();
        while (true)
        {
            var t = Peek;
            if (t.Kind == TokenKind.Operator && Comparisons.Contains(t.Text)) { _pos++; left = new BinaryExpr(t.Text, left, ParseConcat(), t.Line, t.Column); }
            else if (PeekName("in")) { _pos++; left = new BinaryExpr("in", left, ParseConcat(), t.Line, t.Column); }
            else if (PeekName("not") && PeekName("in", 1)) { _pos += 2; left = new BinaryExpr("not in", left, ParseConcat(), t.Line, t.Column); }
            else if (PeekName("is"))
            {
                _pos++;
                bool negated = TryName("not");
                string test = ExpectName().Text;
                var args = new List<Expr>();
                if (TryOperator("(")) args.AddRange(ParseArguments(out _));
                else if (Peek.Kind is TokenKind.String or TokenKind.Integer or TokenKind.Float) args.Add(ParsePrimary());
                left = new TestExpr(left, test, args, negated, t.Line, t.Column);
            }
            else return left;
        }
    }

    private Expr ParseConcat()
    {
        var left = ParseAdditive();
        while (Peek.Kind == TokenKind.Operator && Peek.Text == "~") { var t = tokens[_pos++]; left = new BinaryExpr("~", left, ParseAdditive(), t.Line, t.Column); }
        return left;
    }

    private Expr ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Peek.Kind == TokenKind.Operator && Peek.Text is "+" or "-") { var t = tokens[_pos++]; left = new BinaryExpr(t.Text, left, ParseMultiplicative(), t.Line, t.Column); }
        return left;
    }

    private Expr ParseMultiplicative()
    {
        var left = ParseUnary();
        while (Peek.Kind == TokenKind.Operator && Peek.Text is "*" or "/" or "//" or "%") { var t = tokens[_pos++]; left = new BinaryExpr(t.Text, left, ParseUnary(), t.Line, t.Column); }
        return left;
    }

    private Expr ParseUnary()
    {
        if (Peek.Kind == TokenKind.Operator && Peek.Text is "-" or "+") { var t = tokens[_pos++]; return new UnaryExpr(t.Text, ParseUnary(), t.Line, t.Column); }
        return ParsePostfix(ParsePrimary());
    }

    private Expr ParsePostfix(Expr target)
    {
        while (true)
        {
            var t = Peek;
            if (TryOperator(".")) target = new AttributeExpr(target, ExpectName().Text, t.Line, t.Column);
            else if (TryOperator("[")) target = ParseSubscript(target, t);
            else if (TryOperator("("))
            {
                var args = ParseArguments(out var kwargs);
                target = new CallExpr(target, args, kwargs, t.Line, t.Column);
            }
            else if (TryOperator("|"))
            {
                string name = ExpectName().Text;
                var args = new List<Expr>();
                var kwargs = new List<(string, Expr)>();
                if (TryOperator("(")) args.AddRange(ParseArguments(out kwargs));
                target = new FilterExpr(target, name, args, kwargs, t.Line, t.Column);
            }
            else return target;
        }
    }

    private Expr ParseSubscript(Expr target, Token t)
    {
        Expr? start = null, stop = null, step = null;
        if (!(Peek.Kind == TokenKind.Operator && Peek.Text == ":")) start = ParseExpression();
        if (!TryOperator(":"))
        {
            ExpectOperator("]");
            return new IndexExpr(target, start!, t.Line, t.Column);
        }
        if (!(Peek.Kind == TokenKind.Operator && Peek.Text is ":" or "]")) stop = ParseExpression();
        if (TryOperator(":") && !(Peek.Kind == TokenKind.Operator && Peek.Text == "]")) step = ParseExpression();
        ExpectOperator("]");
        return new SliceExpr(target, start, stop, step, t.Line, t.Column);
    }

    private List<Expr> ParseArguments(out List<(string, Expr)> kwargs)
    {
        var args = new List<Expr>();
        kwargs = [];
        while (!TryOperator(")"))
        {
            if (Peek.Kind == TokenKind.Name && tokens[_pos + 1].Kind == TokenKind.Operator && tokens[_pos + 1].Text == "=")
            {
                string name = tokens[_pos].Text;
                _pos += 2;
                kwargs.Add((name, ParseExpression()));
            }
            else args.Add(ParseExpression());
            if (!TryOperator(","))
            {
                ExpectOperator(")");
                break;
            }
        }
        return args;
    }

    private Expr ParsePrimary()
    {
        var t = Peek;
        switch (t.Kind)
        {
            case TokenKind.String:
                _pos++;
                string s = t.Text;
                while (Peek.Kind == TokenKind.String) s += tokens[_pos++].Text; // adjacent literals concatenate
                return new LiteralExpr(s, t.Line, t.Column);
            case TokenKind.Integer:
                _pos++;
                return new LiteralExpr(long.Parse(t.Text, CultureInfo.InvariantCulture), t.Line, t.Column);
            case TokenKind.Float:
                _pos++;
                return new LiteralExpr(JinjaLexer.ParseFloat(t.Text), t.Line, t.Column);
            case TokenKind.Name:
                _pos++;
                return t.Text switch
                {
                    "true" or "True" => new LiteralExpr(true, t.Line, t.Column),
                    "false" or "False" => new LiteralExpr(false, t.Line, t.Column),
                    "none" or "None" => new LiteralExpr(null, t.Line, t.Column),
                    _ => new NameExpr(t.Text, t.Line, t.Column),
                };
        }
        if (TryOperator("("))
        {
            var inner = ParseExpression();
            if (TryOperator(","))
            {
                var items = new List<Expr> { inner };
                while (!TryOperator(")")) { items.Add(ParseExpression()); TryOperator(","); }
                return new ListExpr(items, t.Line, t.Column); // tuples behave as lists here
            }
            ExpectOperator(")");
            return inner;
        }
        if (TryOperator("["))
        {
            var items = new List<Expr>();
            while (!TryOperator("]")) { items.Add(ParseExpression()); if (!TryOperator(",")) { ExpectOperator("]"); break; } }
            return new ListExpr(items, t.Line, t.Column);
        }
        if (TryOperator("{"))
        {
            var items = new List<(Expr, Expr)>();
            while (!TryOperator("}"))
            {
                var key = ParseExpression();
                ExpectOperator(":");
                items.Add((key, ParseExpression()));
                if (!TryOperator(",")) { ExpectOperator("}"); break; }
            }
            return new DictExpr(items, t.Line, t.Column);
        }
        throw Error("expected a value");
    }
}
