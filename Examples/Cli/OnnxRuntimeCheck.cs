using Microsoft.ML.OnnxRuntime;
using RevNetIlgpu.RevNet.Export;

namespace RevNetIlgpu.Cli;

/// <summary>How an exported model's logits in ONNX Runtime compare with this engine's on the same images.</summary>
/// <param name="MaxAbsLogitDiff">Largest |ONNX Runtime logit − engine logit| over all images and classes.</param>
/// <param name="Top1Agreement">Fraction of images whose most likely class is the same in both.</param>
public sealed record OnnxAgreement(int Images, double MaxAbsLogitDiff, double Top1Agreement);

/// <summary>Runs an exported ONNX file in ONNX Runtime (CPU execution provider) beside this engine's logits.</summary>
public static class OnnxRuntimeCheck
{
    /// <summary>ONNX Runtime's logits [count, classes] for <paramref name="count"/> images [count, C, H, W] in [0, 1].</summary>
    public static float[] Logits(string onnxPath, float[] images, int count, int channels, int height, int width)
    {
        using var session = new InferenceSession(onnxPath);
        using var input = OrtValue.CreateTensorValueFromMemory(images, [count, channels, height, width]);
        using var run = new RunOptions();
        using var outputs = session.Run(run, [OnnxExporter.InputName], [input], [OnnxExporter.LogitsName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Compares two logit tables [count, classes].</summary>
    public static OnnxAgreement Compare(float[] onnxLogits, float[] engineLogits, int classes)
    {
        if (onnxLogits.Length != engineLogits.Length) throw new InvalidDataException($"ONNX Runtime gave {onnxLogits.Length} logits, the engine {engineLogits.Length}");
        int count = engineLogits.Length / classes, agree = 0;
        double maxDiff = 0;
        for (int i = 0; i < count; i++)
        {
            var a = onnxLogits.AsSpan(i * classes, classes);
            var b = engineLogits.AsSpan(i * classes, classes);
            for (int k = 0; k < classes; k++) maxDiff = Math.Max(maxDiff, Math.Abs((double)a[k] - b[k]));
            if (ArgMax(a) == ArgMax(b)) agree++;
        }
        return new OnnxAgreement(count, maxDiff, count == 0 ? 0 : (double)agree / count);
    }

    static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int k = 1; k < row.Length; k++)
            if (row[k] > row[best]) best = k;
        return best;
    }
}
