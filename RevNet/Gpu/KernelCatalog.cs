using System.Reflection;
using System.Text.RegularExpressions;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.RevNet.Distributed;
using RevNetIlgpu.RevNet.Golden;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Reversible;
using RevNetIlgpu.RevNet.Training;
using Module = RevNetIlgpu.RevNet.Layers.Module;

namespace RevNetIlgpu.RevNet.Gpu;

/// <summary>
/// Finds every kernel the engine launches without a GPU: a small workload (the golden cases, one training step of small
/// RevNet/ResNet models with and without bottlenecks, an affine-coupling block, an SGD step) runs on the CPU accelerator
/// once with the tiled kernels and once with the plain ones, and the kernels it loaded are collected. Kernel methods the
/// workload never loaded are reported, so a new kernel cannot silently escape offline compilation.
/// </summary>
public static class KernelCatalog
{
    const int Batch = 2, Image = 8;

    /// <summary>Runs the workload on the CPU accelerator; <paramref name="goldenDirectory"/> (optional) adds its golden cases.</summary>
    public static KernelDiscovery Discover(string? goldenDirectory)
    {
        // One device for both passes: kernels the two paths share are loaded (compiled for the CPU) once.
        using var device = Device.Create("ilgpu-cpu");
        var context = ((IlgpuBackend)device.Backend).Context;
        foreach (bool tiled in new[] { false, true })
        {
            context.UseTiled = tiled;
            if (goldenDirectory is not null) new GoldenRunner(device).RunDirectory(goldenDirectory);
            RunTrainingWorkload(device);
        }
        // Once more with every GEMM split over K (as GPU launches of small C are): the split variants of each GEMM.
        (context.TargetGroups, context.GemmMinSliceSteps) = (int.MaxValue, 1);
        RunTrainingWorkload(device);
        var kernels = context.LoadedKernels.SelectMany(WithGpuTilings).Distinct().OrderBy(DisplayName, StringComparer.Ordinal).ToList();
        var loadedDefinitions = kernels.Select(Definition).ToHashSet();
        var neverLoaded = DeclaredKernels().Where(m => !loadedDefinitions.Contains(m)).ToList();
        return new KernelDiscovery(kernels, neverLoaded);
    }

    /// <summary>
    /// A tiled GEMM kernel (one with an <see cref="IGemmTiling"/> type argument) closed over every tiling a GPU launch can
    /// choose, in place of the CPU-accelerator tiling it was discovered with; any other kernel as it is.
    /// </summary>
    static IEnumerable<MethodInfo> WithGpuTilings(MethodInfo kernel)
    {
        if (!kernel.IsGenericMethod || !kernel.GetGenericArguments().Any(IsTiling))
            return [kernel];
        var arguments = kernel.GetGenericArguments();
        return GemmPlan.GpuTiles.Select(shape =>
        {
            var (tiling, registers) = GemmPlan.KernelTypes(shape);
            var closed = arguments.Select(a => IsTiling(a) ? tiling : typeof(IRegisterTile).IsAssignableFrom(a) ? registers : a).ToArray();
            return kernel.GetGenericMethodDefinition().MakeGenericMethod(closed);
        });
    }

    static bool IsTiling(Type t) => typeof(IGemmTiling).IsAssignableFrom(t);

    /// <summary>Every static method of the ILGPU backend whose name ends in "Kernel" (the convention all kernels follow).</summary>
    public static IReadOnlyList<MethodInfo> DeclaredKernels() =>
        typeof(KernelContext).Assembly.GetTypes().Where(t => t.Namespace == typeof(KernelContext).Namespace)
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => m.Name.EndsWith("Kernel", StringComparison.Ordinal))
            .OrderBy(DisplayName, StringComparer.Ordinal)
            .ToList();

    /// <summary>"Class.Method" with generic arguments, e.g. <c>GemmKernels.TiledKernel&lt;RowMajor,Transposed,RowMajor&gt;</c>.</summary>
    public static string DisplayName(MethodInfo kernel)
    {
        string name = $"{kernel.DeclaringType!.Name}.{kernel.Name}";
        return kernel.IsGenericMethod ? $"{name}<{string.Join(",", kernel.GetGenericArguments().Select(TypeName))}>" : name;
    }

    /// <summary><see cref="DisplayName"/> with everything but letters, digits, '.', '-' and '_' replaced by '_'.</summary>
    public static string FileName(MethodInfo kernel) =>
        Regex.Replace(DisplayName(kernel).TrimEnd('>'), "[^A-Za-z0-9._-]", "_");

    static string TypeName(Type t) =>
        t.IsGenericType ? $"{t.Name[..t.Name.IndexOf('`')]}<{string.Join(",", t.GetGenericArguments().Select(TypeName))}>" : t.Name;

    static MethodInfo Definition(MethodInfo m) => m.IsGenericMethod ? m.GetGenericMethodDefinition() : m;

    static void RunTrainingWorkload(Device device)
    {
        // Checking every op loads the NaN/Inf counter; evaluation mode loads the running-statistics batch norm.
        device.CheckEveryOp = true;
        ModelConfig[] configs =
        [
            ModelConfig.Named("revnet-tiny"),
            ModelConfig.Named("resnet-tiny"),
            new("revnet-bottleneck-tiny", true, [2, 2, 2], 8, [16, 16, 32], Bottleneck: true, BottleneckChannels: [4, 4, 8]),
            new("resnet-bottleneck-tiny", false, [2, 1, 1], 8, [16, 16, 32], Bottleneck: true, BottleneckChannels: [4, 4, 8]),
            // A basic unit that widens at stride 1 (stem 8 → stage 16): the channel padding without a pool.
            new("resnet-widening-tiny", false, [1, 1, 1], 8, [16, 16, 32]),
        ];
        foreach (var config in configs)
        {
            var model = new ResidualNetwork(config);
            TrainAndEvaluate(device, model, config.InputChannels, config.Classes);
        }
        TrainAndEvaluate(device, AffineCouplingModel(), 3, 10);
        // Exact reconstruction's fixed-point kernels: rounding, additive and affine couplings.
        TrainAndEvaluate(device, AffineCouplingModel().WithExactReconstruction(FixedPointFormat.Default), 3, 10);
        var exact = new ResidualNetwork(ModelConfig.Named("revnet-tiny")).WithExactReconstruction(FixedPointFormat.Default);
        TrainAndEvaluate(device, exact, exact.Config.InputChannels, exact.Config.Classes);
        // --sync-bn's kernels: a one-rank job launches them all and exchanges its sums with no one.
        var synced = new ResidualNetwork(ModelConfig.Named("revnet-tiny"));
        foreach (var norm in synced.Modules().OfType<BatchNorm2d>()) norm.SyncAcross = new SingleProcess();
        TrainAndEvaluate(device, synced, synced.Config.InputChannels, synced.Config.Classes);
    }

    /// <summary>A stem conv, one reversible block with affine couplings, and a head: the couplings' scale-shift paths.</summary>
    static Module AffineCouplingModel()
    {
        static Module Half() => new Sequential(new Conv2d(2, 2, 3, 1, 1), new BatchNorm2d(2));
        var block = ReversibleBlock.Affine(Half(), Half(), Half(), Half());
        return new Sequential(new Conv2d(3, 4, 3, 1, 1), new ReversibleSequence([block]), new GlobalAvgPool(), new Linear(4, 10));
    }

    static void TrainAndEvaluate(Device device, Module model, int channels, int classes)
    {
        var random = new Random(0);
        var pixels = Enumerable.Range(0, Batch * channels * Image * Image).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var labelValues = Enumerable.Range(0, Batch).Select(_ => random.Next(classes)).ToArray();
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var images = Tensor.FromArray(device, pixels, Batch, channels, Image, Image);
        using var labels = Tensor.FromArray(device, labelValues, Batch);
        TrainingStep.Run(model, store, images, labels);
        using (var sgd = new SgdOptimizer(store, new SgdSettings(0.1f, 0.9f, 2e-4f)))
            sgd.Step();

        model.Eval();
        device.Tape.IsRecording = false;
        try
        {
            using var logits = model.Forward(images);
        }
        finally
        {
            device.Tape.IsRecording = true;
            model.Train();
        }
    }
}
