namespace RevNetIlgpu.Engine;

/// <summary>
/// Reverse-mode autodiff in the micrograd manner: each op records its output, its differentiable inputs,
/// exactly the tensors its backward needs (retained), and a backward closure. <see cref="Backward"/> walks
/// the records in reverse; each gradient is released as soon as its consumer has run, each record's saved
/// tensors as soon as its backward has run (or, for a consuming record, as soon as the backward itself is done with
/// them). Gradients are passed on, not copied, and accumulate in place only into memory no one else holds. Parameter gradients are accumulated by the closures themselves
/// into the parameters' <see cref="Tensor.Grad"/> slices.
/// </summary>
public sealed class Tape
{
    /// <summary>Computes the gradients of a record's inputs from the gradients of its outputs (borrowed; null
    /// where no gradient reached that output). Returns one owned tensor per input, or null where an input needs none.</summary>
    public delegate Tensor?[] BackwardFunction(Tensor?[] outputGrads);

    /// <summary>
    /// A backward that takes ownership of the record's saved tensors and of its output gradients (null where none reached
    /// an output), so it can release them as soon as it has used them instead of holding them until it returns.
    /// </summary>
    public delegate Tensor?[] ConsumingBackwardFunction(Tensor[] saved, Tensor?[] outputGrads);

    readonly List<Entry> records = new();

    /// <summary>False inside code that must leave nothing on the tape (e.g. the forward of reversible blocks).</summary>
    public bool IsRecording { get; set; } = true;

    /// <summary>Number of ops recorded and not yet run backward or cleared.</summary>
    public int Count => records.Count;

    /// <summary>The recorded op names in order (for inspection and tests).</summary>
    public IReadOnlyList<string> Ops => records.Select(r => r.Op).ToList();

    /// <summary>
    /// Records an op if the tape is recording and the output needs a gradient; otherwise records nothing and
    /// retains nothing. Marks <paramref name="output"/> as requiring a gradient when recorded.
    /// </summary>
    public void Record(string op, Tensor output, Tensor[] inputs, Tensor[] saved, BackwardFunction backward, bool hasParameters = false) =>
        Record(op, [output], inputs, saved, backward, hasParameters);

    /// <summary>Records an op with several outputs (e.g. a channel split).</summary>
    public void Record(string op, Tensor[] outputs, Tensor[] inputs, Tensor[] saved, BackwardFunction backward, bool hasParameters = false)
    {
        // Every op passes here, on the tape or off it, so this is where the debugging check sees all outputs.
        if (outputs.Length > 0 && outputs[0].Device.CheckEveryOp)
            foreach (var o in outputs) o.Device.ThrowIfNonFinite(o, $"output of {op}");
        if (!IsRecording || !(hasParameters || inputs.Any(i => i.RequiresGrad))) return;
        foreach (var o in outputs) o.RequiresGrad = true;
        foreach (var t in saved) t.Retain();
        records.Add(new Entry(op, outputs, inputs, saved, (_, grads) => backward(grads), Consumes: false));
    }

    /// <summary>
    /// Records an op whose backward owns what it saved and its output gradients (see <see cref="ConsumingBackwardFunction"/>):
    /// for a long backward such as a run of reversible blocks, whose output and its gradient are dead once split into halves.
    /// </summary>
    public void RecordConsuming(string op, Tensor output, Tensor[] inputs, Tensor[] saved, ConsumingBackwardFunction backward, bool hasParameters = false)
    {
        if (output.Device.CheckEveryOp) output.Device.ThrowIfNonFinite(output, $"output of {op}");
        if (!IsRecording || !(hasParameters || inputs.Any(i => i.RequiresGrad))) return;
        output.RequiresGrad = true;
        foreach (var t in saved) t.Retain();
        records.Add(new Entry(op, [output], inputs, saved, backward, Consumes: true));
    }

    /// <summary>
    /// Back-propagates <paramref name="seed"/> (borrowed; same shape as <paramref name="output"/>) through every
    /// record, then clears the tape. Returns owned gradients for <paramref name="wrt"/> (null where none flowed);
    /// every other activation gradient has been released by then.
    /// </summary>
    public Tensor?[] Backward(Tensor output, Tensor seed, params Tensor[] wrt) => BackwardConsumingSeeds([output], [seed.Retain()], wrt);

    /// <summary>
    /// As <see cref="Backward(Tensor, Tensor, Tensor[])"/>, but takes ownership of <paramref name="seed"/>, which is then
    /// freed as soon as the last record has used it rather than held by the caller to the end. <paramref name="output"/>
    /// serves only to name the record the seed belongs to: the caller may have released it already.
    /// </summary>
    public Tensor?[] BackwardConsumingSeed(Tensor output, Tensor seed, params Tensor[] wrt) => BackwardConsumingSeeds([output], [seed], wrt);

    /// <summary>As <see cref="BackwardConsumingSeed"/> from several outputs at once (e.g. the two halves of a unit), each with its own seed.</summary>
    public Tensor?[] BackwardConsumingSeeds(Tensor[] outputs, Tensor[] seeds, params Tensor[] wrt)
    {
        for (int i = 0; i < outputs.Length; i++)
            if (seeds[i].Length != outputs[i].Length)
            {
                foreach (var s in seeds) s.Release();
                throw new ArgumentException($"backward: seed gradient {seeds[i].ShapeString} does not match output {outputs[i].ShapeString}");
            }
        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < outputs.Length; i++) Accumulate(grads, outputs[i], seeds[i]);
        // Backward closures run ops too; nothing they do may land on the tape being walked.
        bool wasRecording = IsRecording;
        IsRecording = false;
        try
        {
            for (int i = records.Count - 1; i >= 0; i--)
            {
                var record = records[i];
                records.RemoveAt(i);
                bool savedHandedOver = false;
                try
                {
                    var outputGrads = new Tensor?[record.Outputs.Length];
                    bool any = false;
                    for (int o = 0; o < outputGrads.Length; o++)
                        any |= grads.Remove(record.Outputs[o], out outputGrads[o]);
                    if (!any) continue;
                    Tensor?[] inputGrads;
                    savedHandedOver = record.Consumes;
                    try
                    {
                        inputGrads = record.Backward(record.Saved, outputGrads);
                    }
                    finally
                    {
                        if (!record.Consumes)
                            foreach (var g in outputGrads) g?.Release();
                    }
                    for (int j = 0; j < inputGrads.Length; j++)
                    {
                        if (inputGrads[j] is not { } g) continue;
                        if (record.Inputs[j].RequiresGrad) Accumulate(grads, record.Inputs[j], g);
                        else g.Release();
                    }
                }
                finally
                {
                    if (!savedHandedOver)
                        foreach (var t in record.Saved) t.Release();
                }
            }
            var result = new Tensor?[wrt.Length];
            for (int i = 0; i < wrt.Length; i++)
                if (grads.Remove(wrt[i], out var g)) result[i] = g;
            return result;
        }
        finally
        {
            foreach (var g in grads.Values) g.Release();
            Clear();
            IsRecording = wasRecording;
        }
    }

    /// <summary>Drops every record and releases what they saved (e.g. after an evaluation forward or a failed step).</summary>
    public void Clear()
    {
        foreach (var record in records)
            foreach (var t in record.Saved) t.Release();
        records.Clear();
    }

    static void Accumulate(Dictionary<Tensor, Tensor> grads, Tensor input, Tensor grad) =>
        grads[input] = grads.Remove(input, out var existing) ? Functional.AddConsumingBoth(existing, grad) : grad;

    sealed record Entry(string Op, Tensor[] Outputs, Tensor[] Inputs, Tensor[] Saved, ConsumingBackwardFunction Backward, bool Consumes);
}
