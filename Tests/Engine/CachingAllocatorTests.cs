using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Engine;

public class CachingAllocatorTests
{
    [OneTimeSetUp]
    public void InstallListener() => ThrowingTraceListener.Install();

    static IEnumerable<string> Devices() => ["cpu", "meta"];

    [TestCaseSource(nameof(Devices))]
    public void Counters_AreExactInRoundedBytes(string kind)
    {
        using var device = Device.Create(kind);
        var a = device.Allocator;
        using (var t = Tensor.Empty(device, 3, 5)) // 60 bytes → one 512-byte block
        {
            Assert.That(a.BytesInUse, Is.EqualTo(512));
            Assert.That(a.BlocksInUse, Is.EqualTo(1));
            using var u = Tensor.Empty(device, 129); // 516 bytes → 1024
            Assert.That(a.BytesInUse, Is.EqualTo(512 + 1024));
            Assert.That(a.PeakBytesInUse, Is.EqualTo(1536));
        }
        Assert.That(a.BytesInUse, Is.Zero, "every block returns when its tensor is released");
        Assert.That(a.BytesReserved, Is.EqualTo(1536), "freed blocks stay cached");
        Assert.That(a.PeakBytesInUse, Is.EqualTo(1536));
        a.ResetPeak();
        Assert.That(a.PeakBytesInUse, Is.Zero);
    }

    [TestCaseSource(nameof(Devices))]
    public void FreedBlocks_AreReusedWithoutAskingTheDevice(string kind)
    {
        using var device = Device.Create(kind);
        var a = device.Allocator;
        Tensor.Empty(device, 100).Release();
        long allocations = a.DeviceAllocations;
        for (int i = 0; i < 10; i++) Tensor.Empty(device, 100).Release();
        Assert.That(a.DeviceAllocations, Is.EqualTo(allocations), "same-size requests are served from the cache");
        Assert.That(a.Requests, Is.EqualTo(11));
        a.ReleaseCached();
        Assert.That(a.BytesReserved, Is.Zero);
    }

    [TestCaseSource(nameof(Devices))]
    public void AFreedLargeBlock_IsSplitForSmallerRequests_AndItsHalvesMergeAgain(string kind)
    {
        using var device = Device.Create(kind);
        var a = device.Allocator;
        Tensor.Empty(device, 2048).Release(); // one 8 KiB segment
        var first = Tensor.Empty(device, 1024);
        var second = Tensor.Empty(device, 1024);
        Assert.That(a.DeviceAllocations, Is.EqualTo(1), "two 4 KiB requests are cut from the free 8 KiB block");
        Assert.That(a.BytesInUse, Is.EqualTo(8192));
        first.Release();
        second.Release();
        using var whole = Tensor.Empty(device, 2048);
        Assert.That(a.DeviceAllocations, Is.EqualTo(1), "the freed halves merged back into one 8 KiB block");
        Assert.That(a.BytesReserved, Is.EqualTo(8192));
    }

    [TestCaseSource(nameof(Devices))]
    public void Requests_TakeTheSmallestFreeBlockThatFits(string kind)
    {
        using var device = Device.Create(kind);
        var a = device.Allocator;
        var big = Tensor.Empty(device, 4096);
        var small = Tensor.Empty(device, 1024);
        big.Release();
        small.Release();
        using var exact = Tensor.Empty(device, 1024);
        using var rest = Tensor.Empty(device, 4096);
        Assert.That(a.DeviceAllocations, Is.EqualTo(2), "the 4 KiB request took the 4 KiB block, leaving the 16 KiB one whole");
        Assert.That(a.PeakBytesReserved, Is.EqualTo(20480));
    }

    [Test]
    public void BlocksCutFromOneSegment_DoNotOverlap()
    {
        using var device = Device.Create("cpu");
        Tensor.Empty(device, 3 * 1024).Release();
        using var x = Tensor.FromArray(device, Enumerable.Range(0, 1000).Select(i => (float)i).ToArray(), 1000);
        using var y = Tensor.FromArray(device, Enumerable.Range(0, 1000).Select(i => -(float)i).ToArray(), 1000);
        using var z = Tensor.FromArray(device, Enumerable.Repeat(7f, 1000).ToArray(), 1000);
        Assert.That(device.Allocator.DeviceAllocations, Is.EqualTo(1), "all three came from the one freed segment");
        Assert.That(x.ToArray(), Is.EqualTo(Enumerable.Range(0, 1000).Select(i => (float)i).ToArray()));
        Assert.That(y.ToArray(), Is.EqualTo(Enumerable.Range(0, 1000).Select(i => -(float)i).ToArray()));
        Assert.That(z.ToArray(), Is.All.EqualTo(7f));
    }

    [Test]
    public void MetaDevice_CountsExactlyAsTheCpuDevice()
    {
        using var cpu = Device.Create("cpu");
        using var meta = Device.Create("meta");
        var shapes = new[] { new[] { 2, 3, 5, 7 }, new[] { 1 }, new[] { 64, 32, 8, 8 }, new[] { 2, 3, 5, 7 } };
        foreach (var device in new[] { cpu, meta })
        {
            var held = shapes.Select(s => Tensor.Empty(device, s)).ToList();
            held[1].Release();
            held.Add(Tensor.Empty(device, 1));
            foreach (var t in held) t.Dispose();
        }
        Assert.That(meta.Allocator.PeakBytesInUse, Is.EqualTo(cpu.Allocator.PeakBytesInUse));
        Assert.That(meta.Allocator.BytesReserved, Is.EqualTo(cpu.Allocator.BytesReserved));
        Assert.That(meta.Allocator.DeviceAllocations, Is.EqualTo(cpu.Allocator.DeviceAllocations));
    }

    [Test]
    public void OverTheLimit_ThrowsANamedErrorWithTheNumbers()
    {
        using var device = Device.Create("meta", memoryLimitBytes: 4096);
        using var held = Tensor.Empty(device, 512); // 2048 bytes
        var e = Assert.Throws<DeviceOutOfMemoryException>(() => Tensor.Empty(device, 1024))!;
        Assert.That(e.Message, Does.Contain("4,096 bytes").And.Contain("2,048 in use").And.Contain("--batch").And.Contain("revnet memory"));
        Assert.That(device.Allocator.BytesInUse, Is.EqualTo(2048), "a failed request changes no counter");
    }

    [Test]
    public void OverTheLimit_FirstReturnsCachedBlocks()
    {
        using var device = Device.Create("meta", memoryLimitBytes: 4096);
        Tensor.Empty(device, 640).Release(); // 2560 bytes cached, too small for the next request
        using var t = Tensor.Empty(device, 768); // 3072 bytes: fits under the limit only with the cache emptied first
        Assert.That(device.Allocator.BytesReserved, Is.EqualTo(3072));
    }
}
