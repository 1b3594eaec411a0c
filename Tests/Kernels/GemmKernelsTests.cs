using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Ilgpu;

namespace RevNetIlgpu.Tests.Kernels;

public class GemmKernelsTests : GemmTestBase
{
    static double[] Reference(int m, int n, int kDim, float[] a, float[] bT)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        for (int p = 0; p < kDim; p++)
            c[i * n + j] += (double)a[i * kDim + p] * bT[j * kDim + p];
        return c;
    }

    /// <summary>C = A · B with A row-major [m, k] and B stored transposed as [n, k].</summary>
    float[] Multiply(int m, int n, int kDim, float[] a, float[] bT, float[]? initialC, OutputMode mode)
    {
        using var da = Upload(a);
        using var db = Upload(bT);
        using var dc = initialC is null ? Poisoned(m * n) : Upload(initialC);
        GemmKernels.Multiply(Ilgpu, m, n, kDim,
            new DenseOperand<RowMajor>(da.View, new RowMajor(kDim)),
            new TransposedOperand<DenseOperand<RowMajor>>(new DenseOperand<RowMajor>(db.View, new RowMajor(kDim))),
            new DenseOutput<RowMajor>(dc.View, new RowMajor(n), mode));
        return Download(dc);
    }

    [Test]
    public void Multiply_MatchesFloat64Reference_OnOddShapes(
        [Values(false, true)] bool tiled,
        [Values(new[] { 1, 1, 1 }, new[] { 5, 7, 9 }, new[] { 9, 3, 13 }, new[] { 17, 6, 5 })] int[] mnk)
    {
        UseTiled(tiled);
        var (m, n, kDim) = (mnk[0], mnk[1], mnk[2]);
        var a = RandomArray(m * kDim);
        var bT = RandomArray(n * kDim);
        AssertClose(Multiply(m, n, kDim, a, bT, null, OutputMode.Overwrite), Reference(m, n, kDim, a, bT), 1e-5, "gemm");
    }

    [Test]
    public void Multiply_Accumulate_AddsToExistingOutput([Values(false, true)] bool tiled)
    {
        UseTiled(tiled);
        var (m, n, kDim) = (6, 5, 7);
        var a = RandomArray(m * kDim);
        var bT = RandomArray(n * kDim);
        var c0 = RandomArray(m * n);
        var expected = Reference(m, n, kDim, a, bT).Select((v, i) => v + c0[i]).ToArray();
        AssertClose(Multiply(m, n, kDim, a, bT, c0, OutputMode.Accumulate), expected, 1e-5, "gemm accumulate");
    }

    [Test]
    public void Multiply_BiasIsAddedPerRowOrPerColumn([Values] BiasAxis axis)
    {
        UseTiled(true);
        var (m, n, kDim) = (5, 7, 3);
        var a = RandomArray(m * kDim);
        var bT = RandomArray(n * kDim);
        var bias = RandomArray(axis == BiasAxis.Row ? m : n);
        using var da = Upload(a);
        using var db = Upload(bT);
        using var dbias = Upload(bias);
        using var dc = Poisoned(m * n);
        GemmKernels.Multiply(Ilgpu, m, n, kDim,
            new DenseOperand<RowMajor>(da.View, new RowMajor(kDim)),
            new TransposedOperand<DenseOperand<RowMajor>>(new DenseOperand<RowMajor>(db.View, new RowMajor(kDim))),
            new DenseOutput<RowMajor>(dc.View, new RowMajor(n), OutputMode.Overwrite, dbias.View, axis));
        var expected = Reference(m, n, kDim, a, bT).Select((v, i) => v + bias[axis == BiasAxis.Row ? i / n : i % n]).ToArray();
        AssertClose(Download(dc), expected, 1e-5, "gemm bias");
    }

    [Test]
    public void TiledAndReference_GiveTheSameBits()
    {
        // Both reduce each element in one thread with k ascending, so they agree exactly (no FMA on the CPU).
        var (m, n, kDim) = (7, 9, 11);
        var a = RandomArray(m * kDim);
        var bT = RandomArray(n * kDim);
        UseTiled(false);
        var plain = Multiply(m, n, kDim, a, bT, null, OutputMode.Overwrite);
        UseTiled(true);
        var tiled = Multiply(m, n, kDim, a, bT, null, OutputMode.Overwrite);
        Assert.That(tiled, Is.EqualTo(plain));
    }

    [Test]
    public void Multiply_RejectsNonPositiveSizes()
    {
        using var d = Upload(RandomArray(4));
        var ex = Assert.Throws<ArgumentException>(() => GemmKernels.Multiply(Ilgpu, 2, 0, 2,
            new DenseOperand<RowMajor>(d.View, new RowMajor(2)),
            new DenseOperand<RowMajor>(d.View, new RowMajor(2)),
            new DenseOutput<RowMajor>(d.View, new RowMajor(2), OutputMode.Overwrite)));
        Assert.That(ex!.Message, Does.Contain("gemm").And.Contain("0"));
    }
}
