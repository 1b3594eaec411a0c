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
/// once with the tiled kernels and once with the plain ones, then is planned as a GPU would launch it (launch shapes of a
/// 132-SM GPU, nothing run; with and without warp shuffles, as CUDA and OpenCL launch it), and each GPU tiling is
/// planned on one convolution's GEMMs; the kernels loaded or planned are collected (the CPU accelerator's own 16-thread
/// tiling left out). Kernel methods the workload never loaded are reported, so a new kernel cannot silently escape
/// offline compilation.
/// </summary>
public static class KernelCatalog
{
    const int Batch = 2, Image = 8;

    /// <summary>Runs the workload on the CPU accelerator; <paramref name="goldenDirectory"/> (optional) adds its golden cases.</summary>
    public static KernelDiscovery Discover(string? goldenDirectory)
    {
        // One device for every pass: kernels the passes share are loaded (compiled for the CPU) once.
        using var device = Device.Create("ilgpu-cpu");
        var context = ((IlgpuBackend)device.Backend).Context;
        foreach (bool tiled in new[] { false, true })
        {
            context.UseTiled = tiled;
            if (goldenDirectory is not null) new GoldenRunner(device).RunDirectory(goldenDirectory);
            RunTrainingWorkload(device);
        }
        // As a GPU would launch it: its reductions and grid-stride shapes, and the tilings the plans choose.
        context.UseGpuProfile(GpuProfile.H200.Multiprocessors);
        context.Planning = true;
        RunTrainingWorkload(device);
        // Each GPU tiling on one convolution's GEMMs, raw and normalising its input.
        foreach (var tile in GemmPlan.GpuTiles)
        {
            context.GemmTile = tile;
            RunConvolution(device);
        }
        context.GemmTile = null;
        // Once with small reduction groups: the workload's channels are too short to split at 256 threads, as a batch of
        // 128 splits them; this loads the split reductions' kernels.
        context.ReductionGroupSize = 1;
        RunTrainingWorkload(device);
        // As an OpenCL device launches them: without warp shuffles.
        context.WarpShuffles = false;
        RunTrainingWorkload(device);
        var kernels = context.LoadedKernels.Where(k => !k.GetGenericArguments().Any(ClosedOverCpuTiling))
            .Distinct().OrderBy(DisplayName, StringComparer.Ordinal).ToList();
        var loadedDefinitions = context.LoadedKernels.Select(Definition).ToHashSet();
        var neverLoaded = DeclaredKernels().Where(m => !loadedDefinitions.Contains(m)).ToList();
        return new KernelDiscovery(kernels, neverLoaded);
    }

    /// <summary>True for a kernel that exchanges values between lanes (<see cref="NeighbourLanes"/>): CUDA only, never launched on OpenCL.</summary>
    public static bool NeedsWarpShuffles(MethodInfo kernel) => kernel.IsGenericMethod && kernel.GetGenericArguments().Any(Mentions<NeighbourLanes>);

    static bool Mentions<T>(Type t) => t == typeof(T) || (t.IsGenericType && t.GetGenericArguments().Any(Mentions<T>));

    /// <summary>True for the CPU accelerator's <see cref="Tile16x16"/>, alone or inside a loader's tile side.</summary>
    static bool ClosedOverCpuTiling(Type t) =>
        t == typeof(Tile16x16) || (t.IsGenericType && t.GetGenericArguments().Any(ClosedOverCpuTiling));

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

    /// <summary>
    /// <see cref="DisplayName"/> with everything but letters, digits, '.', '-' and '_' replaced by '_'; names longer than
    /// file systems take (a pair kernel's two GEMMs) keep their first 160 characters and a hash of the whole name.
    /// </summary>
    public static string FileName(MethodInfo kernel)
    {
        string name = Regex.Replace(DisplayName(kernel).TrimEnd('>'), "[^A-Za-z0-9._-]", "_");
        if (name.Length <= 200) return name;
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name));
        return $"{name[..160]}_{Convert.ToHexString(hash)[..16]}";
    }

    static string TypeName(Type t) =>
        t.IsGenericType ? $"{t.Name[..t.Name.IndexOf('`')]}<{string.Join(",", t.GetGenericArguments().Select(TypeName))}>" : t.Name;

    static MethodInfo Definition(MethodInfo m) => m.IsGenericMethod ? m.GetGenericMethodDefinition() : m;

    /// <summary>The three GEMMs of one 3×3 convolution (rows that fit a warp's lanes), raw and after batch-norm-ReLU.</summary>
    static void RunConvolution(Device device)
    {
        var s = new Conv2dShape(N: Batch, C: 8, H: Image, W: Image, K: 8, KH: 3, KW: 3, Stride: 1, Pad: 1);
        using var x = Tensor.Zeros(device, s.N, s.C, s.H, s.W);
        using var w = Tensor.Zeros(device, s.K, s.C, s.KH, s.KW);
        using var y = Tensor.Zeros(device, s.N, s.K, s.OutH, s.OutW);
        using var c = Tensor.Zeros(device, s.C);
        device.Run(k =>
        {
            k.Conv2d.Forward(s, x.View, w.View, default, y.View);
            k.Conv2d.BackwardInput(s, y.View, w.View, x.View);
            k.Conv2d.BackwardWeight(s, x.View, y.View, w.View);
            k.BatchNormReluConv2d.Forward(s, x.View, c.View, c.View, c.View, c.View, w.View, default, y.View);
            k.BatchNormReluConv2d.Backward(s, x.View, c.View, c.View, c.View, c.View, w.View, y.View, x.View, w.View);
        });
    }

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
