using System.CommandLine;
using RevNetIlgpu.Cli;
using RevNetIlgpu.Cli.Commands;

var root = new RootCommand("revnet: train reversible residual networks on ILGPU (CUDA, OpenCL or CPU), without libtorch")
{
    GoldenCommand.Create(),
    CompileKernelsCommand.Create(),
    MemoryCommand.Create(),
    PlanCommand.Create(),
    BenchCommand.Create(),
    GradcheckCommand.Create(),
    ModelsCommand.Create(),
    TrainCommand.Create(),
    EvalCommand.Create(),
    PredictCommand.Create(),
    ExportCommand.Create(),
};
return CommandErrors.Run(() =>
{
    // Parse errors (unknown option, "abc" for a number) get the same one-line form as every other user error,
    // and exceptions reach CommandErrors instead of System.CommandLine's handler, which prints a stack trace.
    var parse = root.Parse(args);
    return parse.Errors.Count > 0
        ? CommandErrors.Report($"{parse.Errors[0].Message} (see revnet --help)")
        : parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
});
