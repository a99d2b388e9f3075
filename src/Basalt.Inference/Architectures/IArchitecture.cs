using Basalt.Gguf;
using Basalt.Inference.Model;

namespace Basalt.Inference.Architectures;

/// <summary>One model family: how its hyperparameters and tensors are laid out in GGUF.</summary>
internal interface IArchitecture
{
    ModelConfig ReadConfig(GgufFile file, int vocabSize);

    ModelWeights LoadWeights(GgufFile file, ModelConfig config);
}
