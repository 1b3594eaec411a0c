using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using RevNetIlgpu.RevNet.Data;
using Spectre.Console;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet bench images --data DIR [--image-size N] [--channels C] [--rounds R]</c>: how fast an image folder loads, per
/// round: the whole training split as <c>revnet train --dataset folder</c> loads it (every file's header, then every
/// training image decoded, resized and cropped), and the decoding alone.
/// </summary>
public static class BenchImagesCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "an image folder (DIR/train/<class>/*.png|jpg)", Required = true };
        var imageSize = new Option<int?>("--image-size") { Description = "resize the shorter side to N and crop the centre (default: the images' own size)" };
        var channels = new Option<int?>("--channels") { Description = "1 or 3 (default: 1 when every image is grey)" };
        var valFraction = new Option<double?>("--val-fraction") { Description = "for a folder without test/" };
        var rounds = new Option<int>("--rounds") { Description = "timed rounds (the first also warms the file cache)", DefaultValueFactory = _ => 3 };
        var command = new Command("images", "image-folder loading speed: images decoded per second") { data, imageSize, channels, valFraction, rounds };
        command.SetAction(parse =>
        {
            string directory = parse.GetValue(data)!;
            var options = new ImageFolderOptions(parse.GetValue(imageSize), parse.GetValue(channels), parse.GetValue(valFraction));
            if (parse.GetValue(rounds) < 1) throw new ArgumentException($"--rounds must be positive, got {parse.GetValue(rounds)}");
            var layout = ImageFolderLayout.Scan(directory, options.ValidationFraction);
            var table = new BenchmarkTable($"image folder {directory}", "round", "what", "images", "shape", "seconds", "images/s");
            for (int round = 1; round <= parse.GetValue(rounds); round++)
            {
                var clock = Stopwatch.StartNew();
                var train = ImageFolder.Load(directory, options, train: true);
                double load = clock.Elapsed.TotalSeconds;
                clock.Restart();
                ImageFolder.Decode(layout.Train, train.Name, layout.Classes, train.Channels, train.Height, train.Width);
                double decode = clock.Elapsed.TotalSeconds;
                string shape = $"{train.Channels}x{train.Height}x{train.Width}";
                table.AddRow($"{round}", "load (headers of all + decode train)", $"{train.Count}", shape, Format(load), Format(train.Count / load));
                table.AddRow($"{round}", "decode train", $"{train.Count}", shape, Format(decode), Format(train.Count / decode));
            }
            AnsiConsole.Write(table.ToSpectre());
            Console.WriteLine($"{Environment.ProcessorCount} cores; the files are read from disk (the first round may also pay for the page cache)");
            return 0;
        });
        return command;
    }

    static string Format(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
}
