using System.CommandLine;

namespace RevNetIlgpu.Cli.Commands;

/// <summary><c>revnet bench memory|step|kernels|convs</c>: the benchmarks whose outputs docs/benchmarks quotes.</summary>
public static class BenchCommand
{
    public static Command Create() => new("bench", "benchmarks: training-step memory, step time reconstructing vs stored, kernel rates, a model's conv shapes, image-folder loading")
    {
        BenchMemoryCommand.Create(),
        BenchStepCommand.Create(),
        BenchKernelsCommand.Create(),
        BenchConvsCommand.Create(),
        BenchImagesCommand.Create(),
    };
}
