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
        Tensor.Empty(device, 768).Release(); // 3072 bytes cached
        using var t = Tensor.Empty(device, 512); // needs the cache emptied first
        Assert.That(device.Allocator.BytesReserved, Is.EqualTo(2048));
    }
}
