using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

public static partial class Functional
{
    /// <summary>
    /// Mean softmax cross-entropy: logits [N,K], labels int32 [N] (validated by the data loader) → loss [1].
    /// Saves the softmax probabilities and the labels.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels)
    {
        const string op = "cross entropy";
        RequireRank(op, "logits", logits, 2);
        if (labels.Rank != 1 || labels[0] != logits[0])
            throw new ArgumentException($"{op}: labels {labels.ShapeString} must be [{logits[0]}] for logits {logits.ShapeString}");
        int n = logits[0], classes = logits[1];
        var device = logits.Device;
        var probs = Tensor.Empty(device, n, classes);
        var loss = Tensor.Empty(device, 1);
        Launch(device, k => k.CrossEntropy.Forward(n, classes, logits.View, labels.IntView, probs.View, loss.View));
        device.Tape.Record(op, loss, [logits], [probs, labels], grads =>
        {
            // dL/dloss is a device scalar; the loss seed is 1 in training, so it is read once on the host.
            float scale = grads[0]!.ToArray()[0];
            var g = Tensor.Empty(device, logits.Shape);
            Launch(device, k => k.CrossEntropy.Backward(n, classes, probs.View, labels.IntView, scale, g.View));
            return [g];
        });
        probs.Release();
        return loss;
    }

    /// <summary>Number of rows whose arg-max equals the label; not recorded.</summary>
    public static int CountCorrect(Tensor logits, Tensor labels)
    {
        var device = logits.Device;
        using var correct = Tensor.Empty(device, 1); // allocated on the meta device too, so its counts stay identical
        Launch(device, k => k.CrossEntropy.CountCorrect(logits[0], logits[1], logits.View, labels.IntView, correct.IntView));
        return correct.ToIntArray()[0];
    }
}
