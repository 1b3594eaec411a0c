using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Tests.Reliability;

/// <summary>Checks on checkpoint files as a user would meet them: complete, loadable, finite.</summary>
internal static class CheckpointFiles
{
    /// <summary>Reads <paramref name="path"/> and loads it, momentum included, into a freshly allocated model; returns the state and every loaded value (parameters, then buffers).</summary>
    public static TrainingState LoadIntoFreshModel(Device device, string path, out float[] weights)
    {
        var content = Checkpoint.Read(path);
        var model = new ResidualNetwork(Checkpoint.ConfigOf(content, path));
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var sgd = new SgdOptimizer(store, new SgdSettings(0.1f, 0.9f, 0));
        var state = Checkpoint.Load(content, path, model, sgd);
        weights = [.. store.Values.ToArray(), .. store.Buffers.ToArray()];
        return state;
    }

    /// <summary>Every tensor's bytes, by name.</summary>
    public static Dictionary<string, byte[]> TensorBytes(string path) =>
        SafeTensorsFile.Read(path).Tensors.ToDictionary(t => t.Name, t => t.Data switch
        {
            float[] f => f.SelectMany(BitConverter.GetBytes).ToArray(),
            long[] l => l.SelectMany(BitConverter.GetBytes).ToArray(),
            _ => throw new ArgumentException($"unexpected element type in {t.Name}"),
        });
}
