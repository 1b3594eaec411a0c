using System.Diagnostics;
using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Tests.Reliability;

public class AllocatorStabilityTests
{
    /// <summary>Growth allowed between the first and last window: far below what keeping one batch (2 KiB) or one tape per step would add up to over the run.</summary>
    const long GcHeapToleranceBytes = 2 << 20, WorkingSetToleranceBytes = 64 << 20;

    const int Window = 20, SampleEvery = 4;

    [TestCase(200)]
    [TestCase(1000, Explicit = true, Reason = "benchmark length asked for by the issue; about five times the default run")]
    public void LongRun_ReturnsDeviceMemoryToTheSameBaselineAfterEveryStep_AndHostMemoryStaysFlat(int steps)
    {
        using var data = new TinyIdxDataset(trainCount: 160);
        using var device = Device.Create("cpu");
        var options = TinyRun.Options(data, "long") with { Epochs = steps / 20, MaxSteps = steps, CropPadding = 1 };
        var (bytesAfterStep, blocksAfterStep) = (new List<long>(), new List<long>());
        var (gcHeap, workingSet) = (new List<(long Step, long Bytes)>(), new List<(long Step, long Bytes)>());
        var trainer = new Trainer(device, options);
        trainer.StepCompleted += p =>
        {
            bytesAfterStep.Add(device.Allocator.BytesInUse);
            blocksAfterStep.Add(device.Allocator.BlocksInUse);
            // Full collections are slow, so host memory is sampled only inside the two compared windows.
            bool inWindow = p.Step > Window && p.Step <= 2 * Window || p.Step > steps - Window;
            if (!inWindow || p.Step % SampleEvery != 0) return;
            gcHeap.Add((p.Step, GC.GetTotalMemory(forceFullCollection: true)));
            workingSet.Add((p.Step, Process.GetCurrentProcess().WorkingSet64));
        };

        var clock = Stopwatch.StartNew();
        var result = trainer.Run();

        Assert.That(result.Steps, Is.EqualTo(steps));
        Assert.That(bytesAfterStep.Distinct(), Is.EquivalentTo(new[] { bytesAfterStep[0] }), "BytesInUse after every step equals the first step's");
        Assert.That(blocksAfterStep.Distinct(), Is.EquivalentTo(new[] { blocksAfterStep[0] }), "BlocksInUse after every step equals the first step's");
        // The first window starts after warm-up (kernel loading, first epoch's caches), the last ends the run.
        var (heapStart, heapEnd) = (Median(gcHeap, Window, 2 * Window), Median(gcHeap, steps - Window, steps));
        var (setStart, setEnd) = (Median(workingSet, Window, 2 * Window), Median(workingSet, steps - Window, steps));
        TestContext.Out.WriteLine($"{steps} steps in {clock.Elapsed.TotalSeconds:F1} s; device {bytesAfterStep[0]:N0} bytes in {blocksAfterStep[0]} blocks after every step; " +
            $"GC heap {heapStart:N0} -> {heapEnd:N0} bytes; working set {setStart:N0} -> {setEnd:N0} bytes");
        Assert.That(heapEnd - heapStart, Is.LessThan(GcHeapToleranceBytes), "managed heap growth from the first window to the last");
        Assert.That(setEnd - setStart, Is.LessThan(WorkingSetToleranceBytes), "working set growth from the first window to the last");
    }

    static long Median(List<(long Step, long Bytes)> samples, long fromStep, long toStep)
    {
        var window = samples.Where(s => s.Step > fromStep && s.Step <= toStep).Select(s => s.Bytes).Order().ToList();
        return window[window.Count / 2];
    }
}
