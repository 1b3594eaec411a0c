using System.CommandLine;
using System.Globalization;
using RevNetIlgpu.RevNet.Distributed;
using RevNetIlgpu.RevNet.Training;
using Spectre.Console;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet train</c>: trains a RevNet (default: a small RevNet on Fashion-MNIST; scripts/train.sh runs the main job), with a
/// progress bar, metrics.csv, checkpoints and curves in --out; ends with one line
/// <c>RESULT model=… test_acc=… seconds=… images_per_s=… peak_mib=… ranks=…</c>. Started by mpirun
/// (scripts/train-mpi.sh), each process is one rank of a data-parallel run and rank 0 alone prints and writes.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var d = new TrainOptions();
        var model = new Option<string>("--model") { Description = "model name (see `revnet models`)", DefaultValueFactory = _ => d.Model };
        var dataset = new Option<string>("--dataset") { Description = "fashion-mnist, mnist, cifar10 or cifar100", DefaultValueFactory = _ => d.Dataset };
        var data = new Option<string?>("--data") { Description = "directory with the dataset files (default for Fashion-MNIST: /usr/share/datasets/fashion-mnist)" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => d.Epochs };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => d.BatchSize };
        var lr = new Option<float>("--lr") { Description = "base learning rate", DefaultValueFactory = _ => d.LearningRate };
        var schedule = new Option<string>("--schedule") { Description = "cosine or step (x0.1 at --milestones)", DefaultValueFactory = _ => d.Schedule };
        var milestones = new Option<string>("--milestones") { Description = "step-decay points as fractions of all steps (paper: 0.5,0.75)", DefaultValueFactory = _ => "0.5,0.75" };
        var momentum = new Option<float>("--momentum") { DefaultValueFactory = _ => d.Momentum };
        var weightDecay = new Option<float>("--weight-decay") { Description = "on conv and linear weights (paper: 2e-4)", DefaultValueFactory = _ => d.WeightDecay };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => d.Seed };
        var trainLimit = new Option<int>("--train-limit") { Description = "use only the first N training images; 0 = all (the default)", DefaultValueFactory = _ => d.TrainLimit ?? 0 };
        var testLimit = new Option<int?>("--test-limit") { Description = "evaluate on only the first N test images" };
        var maxSteps = new Option<long?>("--max-steps") { Description = "stop after N steps in total" };
        var warmupSteps = new Option<int>("--warmup-steps") { Description = "linear learning-rate warm-up over the first N steps", DefaultValueFactory = _ => d.WarmupSteps };
        var timeBudget = new Option<double?>("--time-budget") { Description = "seconds for training and evaluation: the warm-up steps are timed and the step count fixed to fit (needs --warmup-steps)" };
        var crop = new Option<int>("--crop-padding") { Description = "random-crop padding (paper: 4; 0 = off)", DefaultValueFactory = _ => d.CropPadding };
        var flip = new Option<bool>("--flip") { Description = "random horizontal flips (paper: on; not for digits)" };
        var stored = new Option<bool>("--stored") { Description = "keep all activations instead of rebuilding reversible blocks' inputs (the baseline)" };
        var recompute = new Option<bool>("--recompute-transitions") { Description = "also recompute the non-reversible transition units in backward (least memory)" };
        var output = new Option<string>("--out") { Description = "output directory", DefaultValueFactory = _ => d.OutputDirectory };
        var resume = new Option<string?>("--resume") { Description = "continue exactly from a checkpoint (e.g. runs/latest/last.safetensors)" };
        var checkOps = new Option<bool>("--check-every-op") { Description = "check every op's output for NaN/Inf (slow; debugging)" };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "also checkpoint every N steps", DefaultValueFactory = _ => 0 };
        var syncBn = new Option<bool>("--sync-bn") { Description = "under mpirun: batch norm statistics over the whole batch on all ranks (default: each rank's slice)" };
        var rankTimeout = new Option<double>("--rank-timeout")
        {
            Description = "under mpirun: seconds a rank may wait for the others in one exchange before the job is stopped (a hung or dead rank)",
            DefaultValueFactory = _ => 300,
        };
        var memoryLimit = new Option<string?>("--memory-limit") { Description = "cap device memory, e.g. 64MiB (rehearses running out)", Hidden = true };
        var device = CommonOptions.Device();
        var convAlgorithm = CommonOptions.ConvAlgorithm();
        var command = new Command("train", "train a RevNet (default: revnet-fmnist on Fashion-MNIST; --time-budget bounds the wall time)")
        {
            model, dataset, data, epochs, batch, lr, schedule, milestones, momentum, weightDecay, seed, trainLimit, testLimit, maxSteps,
            warmupSteps, timeBudget, crop, flip, stored, recompute, output, resume, checkOps, checkpointEvery, syncBn, rankTimeout, memoryLimit, device, convAlgorithm,
        };
        command.SetAction(parse =>
        {
            var options = new TrainOptions
            {
                Model = parse.GetValue(model)!,
                Dataset = parse.GetValue(dataset)!,
                DataDirectory = parse.GetValue(data),
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                Schedule = parse.GetValue(schedule)!,
                Milestones = ParseFractions(parse.GetValue(milestones)!),
                Momentum = parse.GetValue(momentum),
                WeightDecay = parse.GetValue(weightDecay),
                Seed = parse.GetValue(seed),
                TrainLimit = parse.GetValue(trainLimit) is var trainImages and not 0 ? trainImages : null,
                TestLimit = parse.GetValue(testLimit),
                MaxSteps = parse.GetValue(maxSteps),
                WarmupSteps = parse.GetValue(warmupSteps),
                TimeBudgetSeconds = parse.GetValue(timeBudget),
                CropPadding = parse.GetValue(crop),
                Flip = parse.GetValue(flip),
                Reconstruct = !parse.GetValue(stored),
                RecomputeTransitions = parse.GetValue(recompute),
                OutputDirectory = parse.GetValue(output)!,
                Resume = parse.GetValue(resume),
                CheckEveryOp = parse.GetValue(checkOps),
                CheckpointEvery = parse.GetValue(checkpointEvery),
                SyncBatchNorm = parse.GetValue(syncBn),
            };
            long? limit = parse.GetValue(memoryLimit) is { } text ? ByteSize.Parse(text, "--memory-limit") : null;
            if (!(parse.GetValue(rankTimeout) > 0)) throw new ArgumentException($"--rank-timeout must be a positive number of seconds, got {parse.GetValue(rankTimeout)}");
            // Not disposed on an error: MPI_Finalize would wait for ranks still inside a collective; exiting without it makes mpirun stop them.
            ICommunicator ranks = MpiCommunicator.LaunchedByMpirun ? MpiCommunicator.Initialize(TimeSpan.FromSeconds(parse.GetValue(rankTimeout))) : new SingleProcess();
            bool writer = ranks.Rank == 0;
            if (!writer) CommonOptions.ApplyConvAlgorithm(parse.GetValue(convAlgorithm)); // every rank runs the same algorithm
            using (var dev = writer ? CommonOptions.OpenDevice(parse.GetValue(device), parse.GetValue(convAlgorithm), limit) : Engine.Device.Create(parse.GetValue(device), limit))
            {
                if (dev.IsMeta) throw new ArgumentException("training needs a real device (cpu, ilgpu-cpu, cuda or opencl); use `revnet memory --device meta` to plan memory");
                var trainer = new Trainer(dev, options, ranks);
                if (!writer)
                {
                    trainer.Run();
                }
                else
                {
                    var steps = new List<StepProgress>();
                    trainer.StepCompleted += steps.Add;
                    var result = TrainingProgressDisplay.Run(trainer);
                    Plots.TrainingCurves(steps, result.Epochs, Path.Combine(options.OutputDirectory, "curves.png"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"RESULT model={result.Model} test_acc={result.TestAccuracy:F4} seconds={result.Seconds:F1} images_per_s={result.ImagesPerSecond:F1} peak_mib={result.PeakBytes / 1048576.0:F1} ranks={ranks.Size}"));
                }
            }
            ranks.Dispose();
            return 0;
        });
        return command;
    }

    static double[] ParseFractions(string text)
    {
        try
        {
            var values = text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            if (values.Any(v => v is <= 0 or >= 1)) throw new FormatException();
            return values;
        }
        catch (FormatException)
        {
            throw new ArgumentException($"--milestones must be fractions between 0 and 1 separated by commas, got '{text}'");
        }
    }
}
