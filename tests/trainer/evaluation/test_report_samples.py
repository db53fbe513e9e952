"""The report's gallery: the first samples of one reproducible batch, with the gate's verdicts."""
from __future__ import annotations


def test_gallery_holds_the_first_samples_with_their_gate_verdicts(fit_run, built_report,
                                                                   report_options):
    from trainer.generation.sampler import Sampler, SamplingSettings

    gallery = built_report.gallery
    assert len(gallery) == report_options["samples"]
    assert built_report.memorisation.samples == report_options["batch"]
    rules = ["title", "ending", "length", "repetition", "diversity", "memorised", "html"]
    for sample in gallery:
        assert [line.split(":")[0] for line in sample.verdicts] == rules
        assert sample.passed == (not sample.rejected_by)
    # The gallery is reproducible: the same seed (and batch) gives the same texts.
    sampler = Sampler.load(fit_run, precision=built_report.options["precision"])
    settings = SamplingSettings(max_new_tokens=report_options["length"])
    again = sampler.generate(report_options["seed"], settings, report_options["batch"])
    assert [c.text for c in again[:len(gallery)]] == [s.text for s in gallery]
