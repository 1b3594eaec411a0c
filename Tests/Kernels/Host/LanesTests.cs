using NUnit.Framework;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Tests.Kernels.Host;

/// <summary>Lanes' fixed-order sums: the one-pass pair sum against two single sums.</summary>
public class LanesTests
{
    [TestCase(1)]
    [TestCase(7)]
    [TestCase(37)]
    [TestCase(1031)]
    public void SumPair_IsBitForBitTwoSums_AndCloseToTheExactSums(int count)
    {
        var random = new Random(count);
        var a = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var b = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var pair = new ValueAndProduct(a, b);
        var (sum, dot) = Lanes.SumPair(count, ref pair);
        Assert.That(BitConverter.SingleToInt32Bits(sum), Is.EqualTo(BitConverter.SingleToInt32Bits(Lanes.Sum(a))), "first sum");
        Assert.That(BitConverter.SingleToInt32Bits(dot), Is.EqualTo(BitConverter.SingleToInt32Bits(Lanes.Dot(a, b))), "second sum");
        double exactSum = a.Sum(v => (double)v), exactDot = a.Zip(b, (x, y) => (double)x * y).Sum();
        Assert.That(sum, Is.EqualTo(exactSum).Within(1e-5 * count));
        Assert.That(dot, Is.EqualTo(exactDot).Within(1e-5 * count));
    }

    ref struct ValueAndProduct(ReadOnlySpan<float> a, ReadOnlySpan<float> b) : ILaneTermPair
    {
        readonly ReadOnlySpan<float> a = a, b = b;

        public void At<T>(int i, out T value, out T product) where T : struct, IFloatLanes<T>
        {
            value = T.Load(a, i);
            product = value * T.Load(b, i);
        }
    }
}
