using System.Diagnostics;
using System.Globalization;
using RevNetIlgpu.RevNet.Training;
using Spectre.Console;

namespace RevNetIlgpu.Cli;

/// <summary>
/// Shows training progress: a live Spectre.Console progress bar on a terminal; on redirected output (logs, CI)
/// a plain line every few seconds instead, so progress is visible all the way either way.
/// </summary>
public static class TrainingProgressDisplay
{
    public static TrainResult Run(Trainer trainer)
    {
        trainer.Log += message => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(message)}[/]");
        trainer.EpochCompleted += e => AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"epoch {e.Epoch}: train loss {e.TrainLoss:F4} acc {e.TrainAccuracy:P2} | test loss {e.TestLoss:F4} acc {e.TestAccuracy:P2} | reconstruction drift {e.ReconstructionError:E2} | {e.ImagesPerSecond:F0} img/s | peak {e.PeakBytes / 1048576.0:F1} MiB")));
        if (!AnsiConsole.Profile.Capabilities.Interactive) return RunPlain(trainer);

        TrainResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: 1);
                trainer.StepCompleted += p =>
                {
                    task.MaxValue = p.TotalSteps;
                    task.Value = p.Step;
                    task.Description = Describe(p);
                };
                result = trainer.Run();
            });
        return result!;
    }

    static TrainResult RunPlain(Trainer trainer)
    {
        var clock = Stopwatch.StartNew();
        double lastPrint = -10;
        trainer.StepCompleted += p =>
        {
            if (clock.Elapsed.TotalSeconds - lastPrint < 5 && p.Step != p.TotalSteps) return;
            lastPrint = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] {Describe(p)}");
        };
        return trainer.Run();
    }

    static string Describe(StepProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"step {p.Step}/{p.TotalSteps} epoch {p.Epoch + 1} loss {p.RunningLoss:F3} acc {p.RunningAccuracy:P1} {p.ImagesPerSecond:F0} img/s mem {p.BytesInUse / 1048576.0:F1} MiB (peak {p.PeakBytes / 1048576.0:F1}) lr {p.LearningRate:G3}");
}
