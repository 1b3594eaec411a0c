using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Engine;

public class TensorTests
{
    Device device = null!;

    [OneTimeSetUp]
    public void Open()
    {
        ThrowingTraceListener.Install();
        device = Device.Create("cpu");
    }

    [OneTimeTearDown]
    public void Close() => device.Dispose();

    [Test]
    public void Memory_ReturnsOnTheLastRelease()
    {
        long before = device.Allocator.BytesInUse;
        var t = Tensor.Empty(device, 4, 4);
        t.Retain();
        t.Release();
        Assert.That(device.Allocator.BytesInUse, Is.GreaterThan(before), "one reference is still held");
        t.Release();
        Assert.That(device.Allocator.BytesInUse, Is.EqualTo(before));
        Assert.Throws<ObjectDisposedException>(() => _ = t.View);
    }

    [Test]
    public void Slice_KeepsItsParentAliveAndSharesMemory()
    {
        long before = device.Allocator.BytesInUse;
        var parent = Tensor.FromArray(device, [1f, 2f, 3f, 4f, 5f, 6f], 6);
        var slice = parent.Slice(2, 2, 2);
        parent.Release();
        Assert.That(slice.ToArray(), Is.EqualTo(new[] { 3f, 4f, 5f, 6f }));
        slice.Release();
        Assert.That(device.Allocator.BytesInUse, Is.EqualTo(before));
    }

    [Test]
    public void BadShapes_AreRejectedWithTheShape()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Empty(device, 2, -3))!;
        Assert.That(e.Message, Does.Contain("[2, -3]"));
        e = Assert.Throws<ArgumentException>(() => Tensor.FromArray(device, new float[5], 2, 3))!;
        Assert.That(e.Message, Does.Contain("6").And.Contain("5"));
    }

    [Test]
    public void RoundTrip_PreservesValues()
    {
        var data = new[] { 1.5f, -2f, float.MaxValue, 0f, 3e-30f };
        using var t = Tensor.FromArray(device, data, 5);
        Assert.That(t.ToArray(), Is.EqualTo(data));
    }
}
