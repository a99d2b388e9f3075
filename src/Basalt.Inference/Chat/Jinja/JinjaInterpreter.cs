using System.Text;

namespace Basalt.Inference.Chat.Jinja;

/// <summary>Renders a parsed template: walks the statements, evaluates expressions with Python-like semantics.</summary>
internal sealed class JinjaInterpreter
{
    private readonly List<Dictionary<string, object?>> _scopes = [];

    public JinjaInterpreter(IReadOnlyDictionary<string, object?> variables)
    {
        _scopes.Add(JinjaBuiltins.Globals());
        _scopes.Add(new Dictionary<string, object?>(variables, StringComparer.Ordinal));
    }

    public string Render(IReadOnlyList<Stmt> body)
    {
        var sb = new StringBuilder();
        Execute(body, sb);
        return sb.ToString();
    }

    private void Execute(IReadOnlyList<Stmt> body, StringBuilder output)
    {
        foreach (var stmt in body) Execute(stmt, output);
    }

    private void Execute(Stmt stmt, StringBuilder output)
    {
        switch (stmt)
        {
            case TextStmt t: output.Append(t.Text); break;
            case OutputStmt o: output.Append(JinjaValues.ToText(Evaluate(o.Value))); break;
            case IfStmt s:
                foreach (var (condition, branch) in s.Branches)
                    if (JinjaValues.IsTrue(Evaluate(condition))) { Execute(branch, output); return; }
                if (s.Else is not null) Execute(s.Else, output);
                break;
            case ForStmt f: ExecuteFor(f, output); break;
            case SetStmt s:
                var value = Evaluate(s.Value);
                if (s.Attribute is null) _scopes[^1][s.Name] = value;
                else if (Lookup(s.Name) is JinjaNamespace ns) ns.Values[s.Attribute] = value;
                else throw new TemplateException($"cannot set '{s.Name}.{s.Attribute}': '{s.Name}' is not a namespace.");
                break;
            case SetBlockStmt b:
                var captured = new StringBuilder();
                Execute(b.Body, captured);
                _scopes[^1][b.Name] = captured.ToString();
                break;
            case MacroStmt m: _scopes[^1][m.Name] = MakeMacro(m); break;
            case CallBlockStmt c:
                var caller = new StringBuilder();
                Execute(c.Body, caller);
                _scopes.Add(new() { ["caller"] = (JinjaCallable)((_, _) => caller.ToString()) });
                try { output.Append(JinjaValues.ToText(Evaluate(c.Call))); }
                finally { _scopes.RemoveAt(_scopes.Count - 1); }
                break;
        }
    }

    private void ExecuteFor(ForStmt f, StringBuilder output)
    {
        var items = JinjaValues.Iterate(Evaluate(f.Iterable));
        if (Evaluate(f.Iterable) is Dictionary<string, object?> dict && f.Targets.Count == 2)
            items = dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList();
        if (f.Filter is not null)
            items = items.Where(item => { _scopes.Add(Bind(f.Targets, item)); try { return JinjaValues.IsTrue(Evaluate(f.Filter)); } finally { _scopes.RemoveAt(_scopes.Count - 1); } }).ToList();
        if (items.Count == 0)
        {
            if (f.Else is not null) Execute(f.Else, output);
            return;
        }
        for (int i = 0; i < items.Count; i++)
        {
            var scope = Bind(f.Targets, items[i]);
            scope["loop"] = new Dictionary<string, object?>
            {
                ["index"] = (long)(i + 1), ["index0"] = (long)i, ["revindex"] = (long)(items.Count - i), ["revindex0"] = (long)(items.Count - i - 1),
                ["first"] = i == 0, ["last"] = i == items.Count - 1, ["length"] = (long)items.Count,
                ["previtem"] = i > 0 ? items[i - 1] : Undefined.Instance, ["nextitem"] = i < items.Count - 1 ? items[i + 1] : Undefined.Instance,
            };
            _scopes.Add(scope);
            try { Execute(f.Body, output); }
            finally { _scopes.RemoveAt(_scopes.Count - 1); }
        }
    }

    private static Dictionary<string, object?> Bind(IReadOnlyList<string> targets, object? item)
    {
        var scope = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (targets.Count == 1) scope[targets[0]] = item;
        else
        {
            var parts = item as List<object?> ?? throw new TemplateException($"cannot unpack {JinjaValues.TypeName(item)} into {targets.Count} names.");
            for (int i = 0; i < targets.Count; i++) scope[targets[i]] = i < parts.Count ? parts[i] : Undefined.Instance;
        }
        return scope;
    }

    private JinjaCallable MakeMacro(MacroStmt m) => (args, kwargs) =>
    {
        var scope = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (int i = 0; i < m.Parameters.Count; i++)
        {
            var (name, fallback) = m.Parameters[i];
            scope[name] = i < args.Count ? args[i] : kwargs.TryGetValue(name, out var v) ? v : fallback is null ? Undefined.Instance : Evaluate(fallback);
        }
        _scopes.Add(scope);
        try
        {
            var sb = new StringBuilder();
            Execute(m.Body, sb);
            return sb.ToString();
        }
        finally { _scopes.RemoveAt(_scopes.Count - 1); }
    };

    private object? Lookup(string name)
    {
        for (int i = _scopes.Count - 1; i >= 0; i--)
            if (_scopes[i].TryGetValue(name, out var v)) return v;
        return Undefined.Instance;
    }

    private object? Evaluate(Expr e)
    {
        try
        {
            return EvaluateCore(e);
        }
        catch (TemplateException ex) when (!ex.Message.StartsWith("line ", StringComparison.Ordinal))
        {
            throw new TemplateException($"line {e.Line}, column {e.Column}: {ex.Message}");
        }
    }

    private object? EvaluateCore(Expr e) => e switch
    {
        LiteralExpr l => l.Value,
        NameExpr n => Lookup(n.Name),
        ListExpr l => l.Items.Select(Evaluate).ToList(),
        DictExpr d => d.Items.ToDictionary(kv => JinjaValues.ToText(Evaluate(kv.Key)), kv => Evaluate(kv.Value)),
        AttributeExpr a => JinjaBuiltins.GetAttribute(Evaluate(a.Target), a.Name),
        IndexExpr i => JinjaBuiltins.GetItem(Evaluate(i.Target), Evaluate(i.Index)),
        SliceExpr s => JinjaBuiltins.Slice(Evaluate(s.Target), Optional(s.Start), Optional(s.Stop), Optional(s.Step)),
        CallExpr c => Call(c),
        FilterExpr f => JinjaBuiltins.ApplyFilter(f.Name, Evaluate(f.Target), f.Args.Select(Evaluate).ToList(), f.Kwargs.ToDictionary(k => k.Name, k => Evaluate(k.Value))),
        TestExpr t => JinjaBuiltins.ApplyTest(t.Name, Evaluate(t.Target), t.Args.Select(Evaluate).ToList()) != t.Negated,
        UnaryExpr u => u.Op switch
        {
            "not" => !JinjaValues.IsTrue(Evaluate(u.Operand)),
            "-" => Evaluate(u.Operand) is long l ? (object)(-l) : -JinjaValues.ToDouble(Evaluate(u.Operand)),
            _ => Evaluate(u.Operand),
        },
        BinaryExpr b => Binary(b),
        ConditionalExpr c => JinjaValues.IsTrue(Evaluate(c.Condition)) ? Evaluate(c.Then) : c.Else is null ? Undefined.Instance : Evaluate(c.Else),
        _ => throw new TemplateException($"cannot evaluate {e.GetType().Name}."),
    };

    private long? Optional(Expr? e) => e is null ? null : Evaluate(e) switch
    {
        null or Undefined => null,
        long l => l,
        var v => throw new TemplateException($"slice bounds must be integers, got {JinjaValues.TypeName(v)}."),
    };

    private object? Call(CallExpr c)
    {
        var target = Evaluate(c.Target);
        if (target is not JinjaCallable f)
        {
            string what = c.Target is NameExpr n ? n.Name : c.Target is AttributeExpr a ? a.Name : "value";
            throw new TemplateException($"'{what}' is {JinjaValues.TypeName(target)}, not something that can be called.");
        }
        return f(c.Args.Select(Evaluate).ToList(), c.Kwargs.ToDictionary(k => k.Name, k => Evaluate(k.Value)));
    }

    private object? Binary(BinaryExpr b)
    {
        if (b.Op == "and") { var l = Evaluate(b.Left); return JinjaValues.IsTrue(l) ? Evaluate(b.Right) : l; }
        if (b.Op == "or") { var l = Evaluate(b.Left); return JinjaValues.IsTrue(l) ? l : Evaluate(b.Right); }
        var left = Evaluate(b.Left);
        var right = Evaluate(b.Right);
        return b.Op switch
        {
            "==" => JinjaValues.AreEqual(left, right),
            "!=" => !JinjaValues.AreEqual(left, right),
            "<" => JinjaValues.Compare(left, right) < 0,
            "<=" => JinjaValues.Compare(left, right) <= 0,
            ">" => JinjaValues.Compare(left, right) > 0,
            ">=" => JinjaValues.Compare(left, right) >= 0,
            "in" => JinjaBuiltins.Contains(right, left),
            "not in" => !JinjaBuiltins.Contains(right, left),
            "~" => JinjaValues.ToText(left) + JinjaValues.ToText(right),
            _ => JinjaBuiltins.Arithmetic(b.Op, left, right),
        };
    }
}
