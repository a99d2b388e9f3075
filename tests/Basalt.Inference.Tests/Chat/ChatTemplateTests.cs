using System.Text.Json;
using Basalt.Gguf;
using Basalt.Inference.Chat;

namespace Basalt.Inference.Tests.Chat;

/// <summary>
/// Real chat templates rendered against llama.cpp's own expectations: the cases of its
/// tests/test-chat-template.cpp (b4748), copied as data into llama-cpp-chat-template-cases.json —
/// the template text, the conversation's expected prompt and the BOS/EOS texts.
/// </summary>
public sealed class ChatTemplateTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new("system", "You are a helpful assistant"),
        new("user", "Hello"),
        new("assistant", "Hi there"),
        new("user", "Who are you"),
        new("assistant", "   I am an assistant   "),
        new("user", "Another question"),
    ];

    private sealed record Case(string Name, string Template, string Expected, string BosToken, string EosToken, bool Supported);

    private static List<Case> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Chat", "llama-cpp-chat-template-cases.json")));
        return doc.RootElement.EnumerateArray().Select(e => new Case(
            e.GetProperty("name").GetString()!, e.GetProperty("template").GetString()!, e.GetProperty("expected").GetString()!,
            e.GetProperty("bos_token").GetString()!, e.GetProperty("eos_token").GetString()!, e.GetProperty("supported_with_jinja").GetBoolean())).ToList();
    }

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        // ChatGLM3: llama.cpp's own template engine drops the space in ">\n {{ content }}", which Jinja
        // (and so Hugging Face) keeps; Basalt renders it as Jinja does.
        foreach (var c in Cases().Where(c => c.Supported && c.Name != "ChatGLM3")) data.Add(c.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void RendersLikeLlamaCpp(string name)
    {
        var c = Cases().Single(x => x.Name == name);
        var template = new ChatTemplate(c.Template);
        Assert.Equal(c.Expected, template.Render(Conversation, addGenerationPrompt: true, c.BosToken, c.EosToken));
    }

    [Fact]
    public void TheCaseFileCoversTheCommonFamilies()
    {
        var names = string.Join("\n", Cases().Select(c => c.Name));
        foreach (var family in new[] { "OpenHermes", "Mistral-7B-Instruct", "gemma", "Llama-3", "Phi-3", "deepseek", "command-r", "vicuna" })
            Assert.Contains(family, names, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ChatGlm3KeepsTheSpaceJinjaKeeps()
    {
        var c = Cases().Single(x => x.Name == "ChatGLM3");
        Assert.StartsWith("[gMASK]sop<|system|>\n You are a helpful assistant<|user|>\n Hello", new ChatTemplate(c.Template).Render(Conversation, true));
    }

    [Fact]
    public void Phi3TemplateFromTheModelFile()
    {
        using var file = GgufFile.Open(SharedData.Path("models", "arch", "phi3-tiny-random.gguf"));
        var template = ChatTemplate.Detect(file.Metadata.GetString("tokenizer.chat_template"));
        Assert.False(template.SupportsSystemRole);
        string prompt = template.Render([new("system", "Be brief."), new("user", "Hi"), new("assistant", "Hello!"), new("user", "Bye")], true, "<s>", "<|endoftext|>");
        Assert.Equal("<|user|>\nBe brief.\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\n", prompt);
    }

    [Theory]
    [InlineData("chatml", "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n")]
    [InlineData("llama2", "[INST] <<SYS>>\nS\n<</SYS>>\n\nU [/INST]")]
    [InlineData("llama3", "<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")]
    [InlineData("mistral", "[INST] S\nU [/INST]")]
    [InlineData("phi3", "<|user|>\nS\nU<|end|>\n<|assistant|>\n")]
    [InlineData("gemma", "<start_of_turn>user\nS\nU<end_of_turn>\n<start_of_turn>model\n")]
    [InlineData("zephyr", "<|system|>\nS</s>\n<|user|>\nU</s>\n<|assistant|>\n")]
    public void BuiltInFamilies(string name, string expected) =>
        Assert.Equal(expected, ChatTemplate.Named(name).Render([new("system", "S"), new("user", "U")], true, "<s>", "</s>"));

    [Fact]
    public void NoTemplateMeansChatMl() =>
        Assert.StartsWith("<|im_start|>user\nhi<|im_end|>", ChatTemplate.Detect(null).Render([new("user", "hi")], true));

    [Fact]
    public void TemplateErrorsAreTemplateExceptions()
    {
        var e = Assert.Throws<TemplateException>(() => ChatTemplate.Named("llama2").Render([new("user", "a"), new("user", "b")], true));
        Assert.Contains("Conversation roles must alternate", e.Message);
    }
}
