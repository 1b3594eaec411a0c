using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Softmax cross-entropy over logits [N, classes] with int labels [N]: the mean loss, its gradient, and the count of
/// correct top-1 predictions. Forms: Kernels/Ilgpu/CrossEntropyIlgpu.cs, Kernels/Host/CrossEntropyHost.cs.
/// </summary>
public abstract class CrossEntropyKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>probs = softmax(logits) per row; loss[0] = mean over rows of logsumexp - logit[label].</summary>
    public void Forward(int n, int classes, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> probs, ArrayView<float> loss)
    {
        const string op = "cross entropy";
        CheckShape(op, n, classes, logits, labels);
        ShapeCheck.Length(op, "probs", probs.Length, (long)n * classes);
        ShapeCheck.Length(op, "loss", loss.Length, 1);
        Enter();
        ForwardCore(n, classes, logits, labels, probs, loss);
    }

    /// <summary>glogits = (probs - onehot(label)) * gradScale / N (overwritten); gradScale is dL/dloss.</summary>
    public void Backward(int n, int classes, ArrayView<float> probs, ArrayView<int> labels, float gradScale, ArrayView<float> glogits)
    {
        const string op = "cross entropy backward";
        CheckShape(op, n, classes, probs, labels);
        ShapeCheck.Length(op, "glogits", glogits.Length, (long)n * classes);
        Enter();
        BackwardCore(n, classes, probs, labels, gradScale, glogits);
    }

    /// <summary>correct[0] = the number of rows whose first maximal logit is at the label.</summary>
    public void CountCorrect(int n, int classes, ArrayView<float> logits, ArrayView<int> labels, ArrayView<int> correct)
    {
        const string op = "count correct";
        CheckShape(op, n, classes, logits, labels);
        ShapeCheck.Length(op, "correct", correct.Length, 1);
        Enter();
        CountCorrectCore(n, classes, logits, labels, correct);
    }

    /// <summary>The backend's form of <see cref="Forward"/>: arguments already checked.</summary>
    protected abstract void ForwardCore(int n, int classes, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> probs, ArrayView<float> loss);

    /// <summary>The backend's form of <see cref="Backward"/>: arguments already checked.</summary>
    protected abstract void BackwardCore(int n, int classes, ArrayView<float> probs, ArrayView<int> labels, float gradScale, ArrayView<float> glogits);

    /// <summary>The backend's form of <see cref="CountCorrect"/>: arguments already checked.</summary>
    protected abstract void CountCorrectCore(int n, int classes, ArrayView<float> logits, ArrayView<int> labels, ArrayView<int> correct);

    static void CheckShape(string op, int n, int classes, ArrayView<float> rows, ArrayView<int> labels)
    {
        ShapeCheck.Positive(op, "n", n);
        ShapeCheck.Positive(op, "classes", classes);
        ShapeCheck.Length(op, "logits", rows.Length, (long)n * classes);
        ShapeCheck.Length(op, "labels", labels.Length, n);
    }
}
