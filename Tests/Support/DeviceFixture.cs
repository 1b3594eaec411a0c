using NUnit.Framework;
using RevNetIlgpu.Engine;

namespace RevNetIlgpu.Tests.Support;

/// <summary>
/// A test fixture that runs on one named device, opened once for the fixture: subclasses carry
/// [TestFixture("cpu")] and [TestFixture("ilgpu-cpu")] so the same tests check the host and the ILGPU kernels.
/// </summary>
public abstract class DeviceFixture(string deviceName)
{
    protected Device device = null!;

    [OneTimeSetUp]
    public void Open()
    {
        ThrowingTraceListener.Install();
        device = Device.Create(deviceName);
    }

    [OneTimeTearDown]
    public void Close() => device.Dispose();

    /// <summary>Uniform values in [offset − 1, offset + 1) of the given shape, on the fixture's device.</summary>
    protected Tensor Random(Random rng, float offset, params int[] shape)
    {
        var data = new float[shape.Aggregate(1, (a, d) => a * d)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1) + offset;
        return Tensor.FromArray(device, data, shape);
    }
}
