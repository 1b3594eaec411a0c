using System.Text.Json;
using NUnit.Framework;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

/// <summary>
/// Shared by the GEMM, conv and linear tests: switching between the tiled kernel (the 8×8 tiling, so the CPU
/// accelerator's 16-thread groups fit) and the reference kernel, float64 helpers, finite differences
/// and the PyTorch golden cases.
/// </summary>
public abstract class GemmTestBase : KernelTestBase
{
    bool defaultTiled;
    bool defaultSmall;

    [SetUp]
    public void RememberGemmMode()
    {
        if (!HostKernels) (defaultTiled, defaultSmall) = (Ilgpu.UseTiled, Ilgpu.SmallGemmTiles);
    }

    [TearDown]
    public void RestoreGemmMode()
    {
        if (!HostKernels) (Ilgpu.UseTiled, Ilgpu.SmallGemmTiles) = (defaultTiled, defaultSmall);
    }

    /// <summary>The ILGPU backend's tiled GEMM (small tiles) or its reference kernels; the host backend has one form, and ignores it.</summary>
    protected void UseTiled(bool tiled)
    {
        if (HostKernels) return;
        Ilgpu.UseTiled = tiled;
        Ilgpu.SmallGemmTiles = true;
    }

    protected static double[] ToDouble(float[] a) => Array.ConvertAll(a, v => (double)v);

    protected static double[] Scaled(double[] a, double factor) => Array.ConvertAll(a, v => v * factor);

    /// <summary>d loss / d input[i] by central differences, perturbing a copy of <paramref name="input"/>.</summary>
    protected static double[] FiniteDifference(double[] input, Func<double[], double> loss, double h = 1e-3)
    {
        var g = new double[input.Length];
        var p = (double[])input.Clone();
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = input[i] + h;
            double up = loss(p);
            p[i] = input[i] - h;
            double down = loss(p);
            p[i] = input[i];
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    protected static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>A golden case's params and tensors (by manifest name) from TestData/golden.</summary>
    protected static (JsonElement Params, Dictionary<string, float[]> Tensors) LoadGolden(string name)
    {
        string dir = Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "golden");
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, name + ".json")));
        var tensors = new Dictionary<string, float[]>();
        foreach (var t in manifest.RootElement.GetProperty("tensors").EnumerateObject())
        {
            byte[] bytes = File.ReadAllBytes(Path.Combine(dir, t.Value.GetProperty("file").GetString()!));
            var data = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
            tensors[t.Name] = data;
        }
        return (manifest.RootElement.GetProperty("params").Clone(), tensors);
    }
}
