using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Tests.Reliability;

/// <summary>Training options for runs that take seconds on the `cpu` device: revnet-tiny on <see cref="TinyIdxDataset"/>.</summary>
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

    /// <summary>The same run as command-line arguments for <c>revnet train</c>; <paramref name="changes"/> (option, value pairs) replace or add options.</summary>
    public static List<string> TrainArguments(TinyIdxDataset data, string outputName, params string[] changes)
    {
        List<string> args =
        [
            "train", "--model", "revnet-tiny", "--dataset", "mnist", "--data", data.Directory, "--out", data.OutputDirectory(outputName),
            "--batch", "8", "--lr", "0.05", "--seed", "3", "--device", "cpu",
        ];
        for (int i = 0; i + 1 < changes.Length; i += 2)
        {
            int at = args.IndexOf(changes[i]);
            if (at >= 0) args[at + 1] = changes[i + 1];
            else args.AddRange([changes[i], changes[i + 1]]);
        }
        return args;
    }
}
