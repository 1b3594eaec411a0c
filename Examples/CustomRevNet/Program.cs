// Your own RevNet through the public API: build it, train it on Fashion-MNIST, check the reconstructing backward
// against the stored one, measure both modes' memory, save it and reload it. Usage: --steps N [--affine] [--data DIR]
using System.Globalization;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Reversible;
using RevNetIlgpu.RevNet.Training;

string Option(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
int steps = int.Parse(Option("--steps", "100"), CultureInfo.InvariantCulture);
bool affine = args.Contains("--affine");
string data = Option("--data", FashionMnist.DefaultDirectory);

// F and G are your own modules; here BN-ReLU-conv twice on half of the 32 channels.
Sequential Branch() => new(new BatchNorm2d(16), new ReLU(), new Conv2d(16, 16, 3, padding: 1),
                           new BatchNorm2d(16), new ReLU(), new Conv2d(16, 16, 3, padding: 1));
ReversibleBlock Block() => affine ? ReversibleBlock.Affine(Branch(), Branch(), Branch(), Branch()) : ReversibleBlock.Additive(Branch(), Branch());
Module Build() => new Sequential(
    new Conv2d(1, 32, 3, padding: 1),                       // a plain stem
    new ReversibleSequence([Block(), Block(), Block()]),    // rebuilds its blocks' inputs in backward
    new BatchNorm2d(32), new ReLU(), new GlobalAvgPool(), new Linear(32, 10));

using var device = Device.Create();                          // CUDA, then OpenCL, then the CPU's SIMD kernels
var train = FashionMnist.Load(data, train: true);
var test = FashionMnist.Load(data, train: false).Take(2000);
var model = Build();
using var parameters = ParameterStore.Allocate(device, model, seed: 0);
var options = new TrainOptions
{
    Epochs = 100, MaxSteps = steps, BatchSize = 64, LearningRate = 0.05f, WarmupSteps = Math.Min(30, steps / 3),
    OutputDirectory = Path.Combine(Path.GetTempPath(), "custom-revnet"),
};
var trainer = new Trainer(device, TrainingModel.Custom(model, "custom-revnet", parameters), train, test, options);
trainer.EpochCompleted += e => Console.WriteLine($"epoch {e.Epoch}: step {e.Step}, test accuracy {e.TestAccuracy:P2}");
var result = trainer.Run();

// The reconstructing step's gradients against the stored step's, and each mode's peak memory (the meta device only counts).
var blueprint = new ModelBlueprint("custom-revnet", Build, Channels: 1, Height: 28, Width: 28, Classes: 10);
var check = GradientCheck.Run(device, blueprint, batch: 8);
using var meta = Device.Create("meta");
double PeakMiB(ActivationMemory mode) => MemoryProfile.Measure(meta, blueprint, mode, batch: 64).PeakInUseBytes / 1048576.0;

// Save, reload into a fresh copy, and compare the two on a test batch.
string path = Path.Combine(options.OutputDirectory, "custom.safetensors");
Checkpoint.Save(path, model, optimizer: null, new TrainingState(result.Steps, 0, 0, result.TestAccuracy), new Dictionary<string, string> { ["model"] = "custom-revnet" });
var reloaded = Build();
using var reloadedParameters = ParameterStore.Allocate(device, reloaded, seed: 1);
Checkpoint.Load(Checkpoint.Read(path), path, reloaded, optimizer: null);
var batch = BatchLoader.ForEvaluation(test, 64, ChannelNormalization.Compute(train)).Create(new SamplerPosition(0, 0));
float[] Logits(Module m)
{
    using var evaluating = m.Evaluating(device);
    using var tensors = batch.ToTensors(device);
    using var logits = m.Forward(tensors.Images);
    return logits.ToArray();
}
bool reloadEqual = Logits(model).SequenceEqual(Logits(reloaded));

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"RESULT example=custom-revnet steps={result.Steps} test_acc={result.TestAccuracy:F4} grad_rel_l2={check.WorstRelativeL2:G3} " +
    $"peak_mib_reconstruct={PeakMiB(ActivationMemory.Reconstruct):F1} peak_mib_stored={PeakMiB(ActivationMemory.Stored):F1} reload_equal={reloadEqual.ToString().ToLowerInvariant()}"));
