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
        var device = new DeviceOptions();
        var command = new Command("eval", "report the test accuracy of a checkpoint") { checkpoint, data, testLimit, batch };
        device.AddTo(command);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(checkpoint)!;
            var content = Checkpoint.Read(path);
            var config = Checkpoint.ConfigOf(content, path);
            var normalization = ChannelNormalization.ReadFrom(content.Metadata, path);
            int batchSize = parse.GetValue(batch);
            if (batchSize <= 0) throw new ArgumentException($"--batch must be positive, got {batchSize}");
            var folder = ClassifierMetadata.Read(content.Metadata, config.Classes, path).FolderOptions(config.InputChannels, validationFraction: null);
            var test = DatasetCatalog.Load(content.Metadata.GetValueOrDefault("dataset", "fashion-mnist"), parse.GetValue(data), train: false, parse.GetValue(testLimit), folder);
            if (test.Channels != config.InputChannels || test.ClassCount != config.Classes)
                throw new InvalidDataException($"{path}: model expects {config.InputChannels} channels and {config.Classes} classes, {test.Name} has {test.Channels} and {test.ClassCount}");
            using var dev = device.Open(parse);
            var model = new ResidualNetwork(config);
            using var store = ParameterStore.Allocate(dev, model, seed: 0);
            var state = Checkpoint.Load(content, path, model, optimizer: null);
            var (loss, accuracy) = new Evaluator(dev).Evaluate(model, BatchLoader.ForEvaluation(test, batchSize, normalization));
            Console.WriteLine($"{config.Name} from {path} (step {state.Step}) on {test.Name}: {test.Count} images");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test_acc={accuracy:F4} test_loss={loss:F4} images={test.Count}"));
            return 0;
        });
        return command;
    }
}
