using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Engine;

/// <summary>Gradients are passed on rather than copied, so accumulation must never write into a gradient someone else holds.</summary>
public class TapeGradientPassingTests
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
    public void AnInputUsedTwice_GetsTheSumOfBothGradients_AndTheSeedIsLeftUnchanged()
    {
        using var x = Tensor.FromArray(device, [1f, -2f, 3f], 3);
        x.RequiresGrad = true;
        using var y = Functional.Add(x, x); // both inputs receive the output's gradient tensor itself
        using var z = Functional.Add(y, x);
        using var seed = Tensor.FromArray(device, [0.5f, 1f, -4f], 3);
        var gx = device.Tape.Backward(z, seed, x)[0]!;
        Assert.That(gx.ToArray(), Is.EqualTo(new[] { 1.5f, 3f, -12f }), "dz/dx = 3");
        Assert.That(seed.ToArray(), Is.EqualTo(new[] { 0.5f, 1f, -4f }), "the caller's seed was shared, so nothing was accumulated into it");
        gx.Release();
    }

    [Test]
    public void AddConsumingBoth_WritesIntoTheExclusiveOperand_AndCopiesWhenBothAreShared()
    {
        long before = device.Allocator.BytesInUse;
        var a = Tensor.FromArray(device, [1f, 2f], 2);
        var b = Tensor.FromArray(device, [10f, 20f], 2);
        var sum = Functional.AddConsumingBoth(a, b);
        Assert.That(sum, Is.SameAs(a), "a was held by the caller alone");
        Assert.That(sum.ToArray(), Is.EqualTo(new[] { 11f, 22f }));
        sum.Release();
        Assert.That(device.Allocator.BytesInUse, Is.EqualTo(before), "b was released");

        var shared1 = Tensor.FromArray(device, [1f, 2f], 2).Retain();
        var shared2 = Tensor.FromArray(device, [3f, 4f], 2).Retain();
        var fresh = Functional.AddConsumingBoth(shared1, shared2);
        Assert.That(fresh, Is.Not.SameAs(shared1).And.Not.SameAs(shared2));
        Assert.That(fresh.ToArray(), Is.EqualTo(new[] { 4f, 6f }));
        Assert.That(shared1.ToArray(), Is.EqualTo(new[] { 1f, 2f }), "a shared operand is never written");
        foreach (var t in new[] { fresh, shared1, shared2 }) t.Release();
        Assert.That(device.Allocator.BytesInUse, Is.EqualTo(before));
    }
}
