using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Tests.Reliability;

/// <summary>Training options for runs that take seconds on the CPU accelerator: revnet-tiny on <see cref="TinyIdxDataset"/>.</summary>
internal static class TinyRun
{
    public static TrainOptions Options(TinyIdxDataset data, string outputName) => new()
    {
        Model = "revnet-tiny",
        Dataset = "mnist",
        DataDirectory = data.Directory,
        OutputDirectory = data.OutputDirectory(outputName),
        BatchSize = 8,
        Epochs = 1,
        LearningRate = 0.05f,
        Seed = 3,
    };

    /// <summary>The same run as command-line arguments for <c>revnet train</c>.</summary>
    public static List<string> TrainArguments(TinyIdxDataset data, string outputName) =>
    [
        "train", "--model", "revnet-tiny", "--dataset", "mnist", "--data", data.Directory, "--out", data.OutputDirectory(outputName),
        "--batch", "8", "--lr", "0.05", "--seed", "3", "--device", "cpu",
    ];
}
