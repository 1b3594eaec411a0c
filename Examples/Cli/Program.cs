using System.CommandLine;
using RevNetIlgpu.Cli;
using RevNetIlgpu.Cli.Commands;

var root = new RootCommand("revnet: train reversible residual networks on ILGPU (CUDA, OpenCL or CPU), without libtorch")
{
    GoldenCommand.Create(),
    CompileKernelsCommand.Create(),
    MemoryCommand.Create(),
    GradcheckCommand.Create(),
    ModelsCommand.Create(),
    TrainCommand.Create(),
};
return CommandErrors.Run(() => root.Parse(args).Invoke());
