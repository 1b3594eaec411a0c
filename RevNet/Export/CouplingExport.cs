using RevNetIlgpu.RevNet.Reversible;

namespace RevNetIlgpu.RevNet.Export;

/// <summary>
/// The couplings of reversible blocks as ONNX nodes: y = couple(x; c) from x and the sub-network outputs on c. Each
/// function is the export twin of its coupling's <c>Apply</c> and must change with it.
/// </summary>
internal static class CouplingExport
{
    /// <summary><see cref="AdditiveCoupling"/>: y = x + F(c).</summary>
    public static string Additive(OnnxGraphBuilder graph, string path, string x, string f) => graph.Node("Add", path, [x, f]);

    /// <summary><see cref="AffineCoupling"/>: y = x ⊙ exp(S(c)) + T(c).</summary>
    public static string Affine(OnnxGraphBuilder graph, string path, string x, string s, string t)
    {
        string scale = graph.Node("Exp", path + ".scale", [s]);
        string scaled = graph.Node("Mul", path + ".scaled", [x, scale]);
        return graph.Node("Add", path, [scaled, t]);
    }
}
