using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Softmax cross-entropy with mean reduction. logits, probs, glogits are [N,K]; labels [N] int; loss [1].
/// Forward: probs = softmax(logits) (stable: the row max is subtracted), loss = mean_n(logsumexp(logits[n]) - logits[n,label[n]]).
/// Saved for backward: probs and labels.
/// Labels are validated by the data loader (the host cannot read device labels cheaply); a label outside [0, K) is never
/// used as an index: its row's loss is NaN (so the mean is NaN and a NaN check catches it) and its gradient has no one-hot term.
/// </summary>
public static class CrossEntropyKernels
{
    static void ForwardKernel(ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> probs, ArrayView<float> loss, int classes)
    {
        // One group for the whole batch: each thread takes whole rows, then a fixed tree sums their losses.
        int n = labels.IntLength;
        float partial = 0f;
        for (int row = Group.IdxX, step = Group.DimX; row < n; row += step)
        {
            int start = row * classes;
            float max = logits[start];
            for (int j = 1; j < classes; j++) max = XMath.Max(max, logits[start + j]);
            float sumExp = 0f;
            for (int j = 0; j < classes; j++) sumExp += XMath.Exp(logits[start + j] - max);
            for (int j = 0; j < classes; j++) probs[start + j] = XMath.Exp(logits[start + j] - max) / sumExp;
            int label = labels[row];
            partial += label >= 0 && label < classes
                ? max + XMath.Log(sumExp) - logits[start + label]
                : float.NaN;
        }
        float total = GroupReduction.Sum(partial);
        if (Group.IdxX == 0) loss[0] = total / n;
    }

    static void BackwardKernel(ArrayView<float> probs, ArrayView<int> labels, ArrayView<float> glogits, int classes, float scale)
    {
        for (int i = GridLoop.Start, end = glogits.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            float onehot = labels[i / classes] == i % classes ? 1f : 0f;
            glogits[i] = (probs[i] - onehot) * scale;
        }
    }

    static void CountCorrectKernel(ArrayView<float> logits, ArrayView<int> labels, ArrayView<int> correct, int classes)
    {
        int local = 0;
        for (int row = GridLoop.Start, end = labels.IntLength, step = GridLoop.Stride; row < end; row += step)
        {
            int start = row * classes, best = 0;
            for (int j = 1; j < classes; j++)
                if (logits[start + j] > logits[start + best]) best = j; // strict: ties keep the first maximum
            if (best == labels[row]) local++;
        }
        // Integer addition is exact and associative, so the atomic total is the same on every run.
        if (local != 0) Atomic.Add(ref correct[0], local);
    }

    /// <summary>probs = softmax(logits) per row; loss[0] = mean over rows of logsumexp - logit[label].</summary>
    public static void Forward(KernelContext k, int n, int classes, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> probs, ArrayView<float> loss)
    {
        const string op = "cross entropy";
        CheckShape(op, n, classes, logits, labels);
        ShapeCheck.Length(op, "probs", probs.Length, (long)n * classes);
        ShapeCheck.Length(op, "loss", loss.Length, 1);
        if (k.DispatchToHost()) { HostMemory.Span(loss)[0] = CrossEntropyHost.Forward(n, classes, HostMemory.Span(logits), HostMemory.Span(labels), HostMemory.Span(probs)); return; }
        k.Load<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(ForwardKernel)(
            k.GroupPerItem(1), logits, labels, probs, loss, classes);
    }

    /// <summary>glogits = (probs - onehot(label)) * gradScale / N (overwritten); gradScale is dL/dloss.</summary>
    public static void Backward(KernelContext k, int n, int classes, ArrayView<float> probs, ArrayView<int> labels, float gradScale, ArrayView<float> glogits)
    {
        const string op = "cross entropy backward";
        CheckShape(op, n, classes, probs, labels);
        ShapeCheck.Length(op, "glogits", glogits.Length, (long)n * classes);
        if (k.DispatchToHost()) { CrossEntropyHost.Backward(n, classes, HostMemory.Span(probs), HostMemory.Span(labels), gradScale, HostMemory.Span(glogits)); return; }
        k.Load<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, float>(BackwardKernel)(
            k.GridStride(glogits.Length), probs, labels, glogits, classes, gradScale / n);
    }

    /// <summary>correct[0] = the number of rows whose first maximal logit is at the label.</summary>
    public static void CountCorrect(KernelContext k, int n, int classes, ArrayView<float> logits, ArrayView<int> labels, ArrayView<int> correct)
    {
        const string op = "count correct";
        CheckShape(op, n, classes, logits, labels);
        ShapeCheck.Length(op, "correct", correct.Length, 1);
        if (k.DispatchToHost()) { HostMemory.Span(correct)[0] = CrossEntropyHost.CountCorrect(n, classes, HostMemory.Span(logits), HostMemory.Span(labels)); return; }
        correct.MemSetToZero();
        k.Load<ArrayView<float>, ArrayView<int>, ArrayView<int>, int>(CountCorrectKernel)(k.GridStride(n), logits, labels, correct, classes);
    }

    static void CheckShape(string op, int n, int classes, ArrayView<float> rows, ArrayView<int> labels)
    {
        ShapeCheck.Positive(op, "n", n);
        ShapeCheck.Positive(op, "classes", classes);
        ShapeCheck.Length(op, "logits", rows.Length, (long)n * classes);
        ShapeCheck.Length(op, "labels", labels.Length, n);
    }
}
