using System.CommandLine;
using System.Globalization;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Cli.Commands;

/// <summary><c>revnet eval CHECKPOINT</c>: test-set loss and top-1 accuracy of a saved model; last line <c>test_acc=… test_loss=… images=…</c>.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "a .safetensors checkpoint written by `revnet train`" };
        var data = new Option<string?>("--data") { Description = "dataset directory (default: the one the checkpoint was trained on, or the dataset's default)" };
        var testLimit = new Option<int?>("--test-limit") { Description = "evaluate on only the first N test images" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 100 };
        var device = CommonOptions.Device();
        var convAlgorithm = CommonOptions.ConvAlgorithm();
        var command = new Command("eval", "report the test accuracy of a checkpoint") { checkpoint, data, testLimit, batch, device, convAlgorithm };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(checkpoint)!;
            var content = Checkpoint.Read(path);
            var config = Checkpoint.ConfigOf(content, path);
            var normalization = Trainer.NormalizationOf(content.Metadata, path);
            var options = new TrainOptions
            {
                Dataset = content.Metadata.GetValueOrDefault("dataset", "fashion-mnist"),
                DataDirectory = parse.GetValue(data),
                TestLimit = parse.GetValue(testLimit),
                BatchSize = parse.GetValue(batch),
            };
            if (options.BatchSize <= 0) throw new ArgumentException($"--batch must be positive, got {options.BatchSize}");
            var test = Trainer.LoadTest(options);
            if (test.Channels != config.InputChannels || test.ClassCount != config.Classes)
                throw new InvalidDataException($"{path}: model expects {config.InputChannels} channels and {config.Classes} classes, {test.Name} has {test.Channels} and {test.ClassCount}");
            using var dev = CommonOptions.OpenDevice(parse.GetValue(device), parse.GetValue(convAlgorithm));
            var model = new ResidualNetwork(config);
            using var store = ParameterStore.Allocate(dev, model, seed: 0);
            var state = Checkpoint.Load(content, path, model, optimizer: null);
            var (loss, accuracy) = new Trainer(dev, options).Evaluate(model, BatchLoader.ForEvaluation(test, options.BatchSize, normalization),
                test.Channels, test.Height, test.Width);
            Console.WriteLine($"{config.Name} from {path} (step {state.Step}) on {test.Name}: {test.Count} images");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test_acc={accuracy:F4} test_loss={loss:F4} images={test.Count}"));
            return 0;
        });
        return command;
    }
}
