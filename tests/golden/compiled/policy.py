# leukorules compile --emit python: policy leukoencephalopathy version 1.0.0
# generated code, for reading; leukorules regenerates it from the policy
_UNKNOWN_ENV = {'response': None, 'leukoencephalopathy_type': None, 'hiv_positive': None, 'immune_restoration_possible': None, 'pml_medication_induced': None, 'checkpoint_inhibitor_candidate': None, 'causative_drug': None, 'pml_signs': None, 'immune_mediated': None, 'pres': None, 'corticosteroid_response': None, 'plasma_exchange_response': None, 'toxic_exposure_ongoing': None, 'on_treatment': None, 'clinical_decline': None, 'electrolyte_imbalance': None, 'agitation': None, 'seizures': None, 'neuropathic_pain': None, 'raised_intracranial_pressure': None, 'motor_deficits': None, 'dysarthria_or_dysphasia': None, 'neurological_symptoms': None, 'symptom_course': None, 'csf_findings': None, 'mri_findings': None, }
_SHAPES = {}  # the truths of the rules -> outcomes and lists (bounded)

def _core(facts):
    g = facts.get
    f1 = g('leukoencephalopathy_type')
    f2 = g('hiv_positive')
    f3 = g('immune_restoration_possible')
    f4 = g('pml_medication_induced')
    f5 = g('checkpoint_inhibitor_candidate')
    f6 = g('causative_drug')
    f7 = g('pml_signs')
    f8 = g('immune_mediated')
    f9 = g('pres')
    f10 = g('corticosteroid_response')
    f11 = g('plasma_exchange_response')
    f12 = g('toxic_exposure_ongoing')
    f13 = g('on_treatment')
    f14 = g('clinical_decline')
    f15 = g('electrolyte_imbalance')
    f16 = g('agitation')
    f17 = g('seizures')
    f18 = g('neuropathic_pain')
    f19 = g('raised_intracranial_pressure')
    f20 = g('motor_deficits')
    f21 = g('dysarthria_or_dysphasia')
    f22 = g('neurological_symptoms')
    f23 = g('symptom_course')
    f24 = g('csf_findings')
    f25 = g('mri_findings')
    # rule 'approach.supportive_care'
    e0 = True
    # rule 'pml.cause'
    e1 = (None if f1 is None else f1 == 'pml')
    # rule 'pml.immune_restoration'
    e2 = (False if (f1 is not None and f1 != 'pml') else False if f3 is False else None if ((f1 is None) or f3 is None) else True)
    # rule 'pml.hiv_antiretroviral_therapy'
    e3 = (False if (f1 is not None and f1 != 'pml') else False if f2 is False else None if ((f1 is None) or f2 is None) else True)
    # rule 'pml.medication_induced.no_antiviral'
    e4 = (False if (f1 is not None and f1 != 'pml') else False if (_t1 := (True if f4 is True else True if f6 in {'mycophenolic_acid', 'rituximab', 'other'} else None if (f4 is None or (f6 is None)) else False)) is False else None if ((f1 is None) or _t1 is None) else True)
    # rule 'pml.medication_induced.checkpoint_inhibitors'
    e5 = (False if (f1 is not None and f1 != 'pml') else False if (_t2 := (True if f4 is True else True if f6 in {'mycophenolic_acid', 'rituximab', 'other'} else None if (f4 is None or (f6 is None)) else False)) is False else False if f5 is False else None if ((f1 is None) or _t2 is None or f5 is None) else True)
    # rule 'drug_induced.mycophenolic_acid.cessation'
    e6 = (False if (f6 is not None and f6 != 'mycophenolic_acid') else False if (_t3 := (True if f7 is True else True if f1 == 'pml' else None if (f7 is None or (f1 is None)) else False)) is False else None if ((f6 is None) or _t3 is None) else True)
    # rule 'adem.corticosteroids'
    e7 = (None if f1 is None else f1 == 'post_infectious')
    # rule 'adem.plasma_exchange'
    e8 = (False if (f10 is not None and f10 != 'not_responding') else False if e7 is False else None if ((f10 is None) or e7 is None) else True)
    # rule 'adem.ivig'
    e9 = (False if (f1 is not None and f1 != 'post_infectious') else False if (f11 is not None and f11 != 'not_responding') else None if ((f1 is None) or (f11 is None)) else True)
    # rule 'toxic.remove_exposure'
    e10 = (False if (f1 is not None and f1 != 'toxic') else False if f12 is False else None if ((f1 is None) or f12 is None) else True)
    # rule 'toxic.correct_electrolytes'
    e11 = (False if (f1 is not None and f1 != 'toxic') else False if f15 is False else None if ((f1 is None) or f15 is None) else True)
    # rule 'toxic.benzodiazepines'
    e12 = (False if (f1 is not None and f1 != 'toxic') else False if (_t4 := (True if f16 is True else True if f17 is True else None if (f16 is None or f17 is None) else False)) is False else None if ((f1 is None) or _t4 is None) else True)
    # rule 'supportive.neuropathic_pain'
    e13 = f18
    # rule 'supportive.seizures'
    e14 = f17
    # rule 'supportive.raised_intracranial_pressure'
    e15 = f19
    # rule 'rehabilitation.physical_occupational_therapy'
    e16 = f20
    # rule 'rehabilitation.functional_training'
    e17 = (True if f22 is True else True if f20 is True else True if f21 is True else None if (f22 is None or f20 is None or f21 is None) else False)
    # rule 'rehabilitation.speech_therapy'
    e18 = f21
    # rule 'imaging.serial_mri'
    e19 = True
    # rule 'imaging.radiological_lag'
    e20 = (None if f23 is None else f23 in {'resolved', 'improved'})
    # rule 'imaging.persistent_t2_flair_lesions'
    e21 = (False if (f23 is not None and not (f23 in {'resolved', 'improved'})) else False if (f25 is not None and not (f25 in {'minimal_residual', 'abnormal'})) else None if ((f23 is None) or (f25 is None)) else True)
    # rule 'laboratory.pml_csf_jc_virus'
    e22 = (None if f1 is None else f1 == 'pml')
    # rule 'laboratory.drug_induced_blood_tests'
    e23 = (None if f1 is None else f1 == 'drug_induced')
    # rule 'response.complete_remission'
    e24 = (False if (f23 is not None and f23 != 'resolved') else False if (f24 is not None and f24 != 'normalized') else False if (f25 is not None and not (f25 in {'normalized', 'minimal_residual'})) else None if ((f23 is None) or (f24 is None) or (f25 is None)) else True)
    # rule 'response.partial_response'
    e25 = (False if (_t7 := (True if f23 == 'improved' else True if (_t6 := (False if (f23 is not None and f23 != 'resolved') else False if (_t5 := (True if f25 == 'abnormal' else True if f24 == 'abnormal' else None if ((f25 is None) or (f24 is None)) else False)) is False else None if ((f23 is None) or _t5 is None) else True)) is True else None if ((f23 is None) or _t6 is None) else False)) is False else False if (f25 is not None and not (f25 in {'normalized', 'minimal_residual', 'abnormal'})) else False if (f24 is not None and not (f24 in {'normalized', 'abnormal'})) else None if (_t7 is None or (f25 is None) or (f24 is None)) else True)
    # rule 'response.non_response'
    b26 = (True if f23 in {'unchanged', 'progressed'} else True if f25 in {'abnormal', 'progressed'} else True if f24 in {'abnormal', 'progressed'} else None if ((f23 is None) or (f25 is None) or (f24 is None)) else False)
    e26 = (False if b26 is False else False if e25 is True else None if (b26 is None or e25 is None) else True)
    # rule 'considerations.symptoms_guide_treatment'
    e27 = True
    # rule 'considerations.permanent_deficits'
    e28 = True
    # rule 'considerations.decline_may_be_treatment_toxicity'
    e29 = (False if f13 is False else False if f14 is False else None if (f13 is None or f14 is None) else True)
    # rule 'considerations.blood_pressure_control'
    e30 = (True if f8 is True else True if f1 == 'post_infectious' else None if (f8 is None or (f1 is None)) else False)
    # rule 'considerations.blood_pressure_control_pres'
    e31 = (False if f9 is False else False if e30 is False else None if (f9 is None or e30 is None) else True)
    # derived fact 'response'
    d0 = 'complete_remission' if (e24 is True) and e25 is False and e26 is False else 'partial_response' if (e25 is True) and e24 is False and e26 is False else 'non_response' if (e26 is True) and e24 is False and e25 is False else None
    # gap 'drug_induced.rituximab.no_statement'
    g0 = (None if f6 is None else f6 == 'rituximab')
    # the canonical JSON of the known input facts (hashed into facts_sha256)
    _parts = []
    _add = _parts.append
    if f16 is not None: _add(('"agitation":true' if f16 else '"agitation":false'))
    if f6 is not None: _add(_k0[f6])
    if f5 is not None: _add(('"checkpoint_inhibitor_candidate":true' if f5 else '"checkpoint_inhibitor_candidate":false'))
    if f14 is not None: _add(('"clinical_decline":true' if f14 else '"clinical_decline":false'))
    if f10 is not None: _add(_k1[f10])
    if f24 is not None: _add(_k2[f24])
    if f21 is not None: _add(('"dysarthria_or_dysphasia":true' if f21 else '"dysarthria_or_dysphasia":false'))
    if f15 is not None: _add(('"electrolyte_imbalance":true' if f15 else '"electrolyte_imbalance":false'))
    if f2 is not None: _add(('"hiv_positive":true' if f2 else '"hiv_positive":false'))
    if f8 is not None: _add(('"immune_mediated":true' if f8 else '"immune_mediated":false'))
    if f3 is not None: _add(('"immune_restoration_possible":true' if f3 else '"immune_restoration_possible":false'))
    if f1 is not None: _add(_k3[f1])
    if f20 is not None: _add(('"motor_deficits":true' if f20 else '"motor_deficits":false'))
    if f25 is not None: _add(_k4[f25])
    if f22 is not None: _add(('"neurological_symptoms":true' if f22 else '"neurological_symptoms":false'))
    if f18 is not None: _add(('"neuropathic_pain":true' if f18 else '"neuropathic_pain":false'))
    if f13 is not None: _add(('"on_treatment":true' if f13 else '"on_treatment":false'))
    if f11 is not None: _add(_k5[f11])
    if f4 is not None: _add(('"pml_medication_induced":true' if f4 else '"pml_medication_induced":false'))
    if f7 is not None: _add(('"pml_signs":true' if f7 else '"pml_signs":false'))
    if f9 is not None: _add(('"pres":true' if f9 else '"pres":false'))
    if f19 is not None: _add(('"raised_intracranial_pressure":true' if f19 else '"raised_intracranial_pressure":false'))
    if f17 is not None: _add(('"seizures":true' if f17 else '"seizures":false'))
    if f23 is not None: _add(_k6[f23])
    if f12 is not None: _add(('"toxic_exposure_ongoing":true' if f12 else '"toxic_exposure_ongoing":false'))
    facts_json = '{' + ','.join(_parts) + '}'
    # outcomes and the lists evaluate reports: the same for the same rule truths
    effective = (e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13, e14, e15, e16, e17, e18, e19, e20, e21, e22, e23, e24, e25, e26, e27, e28, e29, e30, e31, )
    truths = (effective, b26)
    shape = _SHAPES.get(truths)
    if shape is None:
        recommended = []
        noted = []
        undetermined = []
        overridden = []
        to_explain = []
        derivations = []
        to_walk = []
        outcomes = {'approach.supportive_care': 'fired' if e0 is True else 'not_fired', 'pml.cause': 'fired' if e1 is True else 'undetermined' if e1 is None else 'not_fired', 'pml.immune_restoration': 'fired' if e2 is True else 'undetermined' if e2 is None else 'not_fired', 'pml.hiv_antiretroviral_therapy': 'fired' if e3 is True else 'undetermined' if e3 is None else 'not_fired', 'pml.medication_induced.no_antiviral': 'fired' if e4 is True else 'undetermined' if e4 is None else 'not_fired', 'pml.medication_induced.checkpoint_inhibitors': 'fired' if e5 is True else 'undetermined' if e5 is None else 'not_fired', 'drug_induced.mycophenolic_acid.cessation': 'fired' if e6 is True else 'undetermined' if e6 is None else 'not_fired', 'adem.corticosteroids': 'fired' if e7 is True else 'undetermined' if e7 is None else 'not_fired', 'adem.plasma_exchange': 'fired' if e8 is True else 'undetermined' if e8 is None else 'not_fired', 'adem.ivig': 'fired' if e9 is True else 'undetermined' if e9 is None else 'not_fired', 'toxic.remove_exposure': 'fired' if e10 is True else 'undetermined' if e10 is None else 'not_fired', 'toxic.correct_electrolytes': 'fired' if e11 is True else 'undetermined' if e11 is None else 'not_fired', 'toxic.benzodiazepines': 'fired' if e12 is True else 'undetermined' if e12 is None else 'not_fired', 'supportive.neuropathic_pain': 'fired' if e13 is True else 'undetermined' if e13 is None else 'not_fired', 'supportive.seizures': 'fired' if e14 is True else 'undetermined' if e14 is None else 'not_fired', 'supportive.raised_intracranial_pressure': 'fired' if e15 is True else 'undetermined' if e15 is None else 'not_fired', 'rehabilitation.physical_occupational_therapy': 'fired' if e16 is True else 'undetermined' if e16 is None else 'not_fired', 'rehabilitation.functional_training': 'fired' if e17 is True else 'undetermined' if e17 is None else 'not_fired', 'rehabilitation.speech_therapy': 'fired' if e18 is True else 'undetermined' if e18 is None else 'not_fired', 'imaging.serial_mri': 'fired' if e19 is True else 'not_fired', 'imaging.radiological_lag': 'fired' if e20 is True else 'undetermined' if e20 is None else 'not_fired', 'imaging.persistent_t2_flair_lesions': 'fired' if e21 is True else 'undetermined' if e21 is None else 'not_fired', 'laboratory.pml_csf_jc_virus': 'fired' if e22 is True else 'undetermined' if e22 is None else 'not_fired', 'laboratory.drug_induced_blood_tests': 'fired' if e23 is True else 'undetermined' if e23 is None else 'not_fired', 'response.complete_remission': 'fired' if e24 is True else 'undetermined' if e24 is None else 'not_fired', 'response.partial_response': 'fired' if e25 is True else 'undetermined' if e25 is None else 'not_fired', 'response.non_response': 'fired' if e26 is True else 'undetermined' if e26 is None else 'not_fired', 'considerations.symptoms_guide_treatment': 'fired' if e27 is True else 'not_fired', 'considerations.permanent_deficits': 'fired' if e28 is True else 'not_fired', 'considerations.decline_may_be_treatment_toxicity': 'fired' if e29 is True else 'undetermined' if e29 is None else 'not_fired', 'considerations.blood_pressure_control': 'fired' if e30 is True else 'undetermined' if e30 is None else 'not_fired', 'considerations.blood_pressure_control_pres': 'fired' if e31 is True else 'undetermined' if e31 is None else 'not_fired'}
        if e0 is True: recommended.append(0)
        if e1 is True: noted.append(1)
        elif e1 is None: undetermined.append(1)
        if e2 is True: recommended.append(2)
        elif e2 is None: undetermined.append(2)
        if e3 is True: recommended.append(3)
        elif e3 is None: undetermined.append(3)
        if e4 is True: noted.append(4); to_explain.append(4)
        elif e4 is None: undetermined.append(4)
        if e5 is True: recommended.append(5); to_explain.append(5)
        elif e5 is None: undetermined.append(5)
        if e6 is True: recommended.append(6); to_explain.append(6)
        elif e6 is None: undetermined.append(6)
        if e7 is True: recommended.append(7)
        elif e7 is None: undetermined.append(7)
        if e8 is True: recommended.append(8)
        elif e8 is None: undetermined.append(8)
        if e9 is True: recommended.append(9)
        elif e9 is None: undetermined.append(9)
        if e10 is True: recommended.append(10)
        elif e10 is None: undetermined.append(10)
        if e11 is True: recommended.append(11)
        elif e11 is None: undetermined.append(11)
        if e12 is True: recommended.append(12); to_explain.append(12)
        elif e12 is None: undetermined.append(12)
        if e13 is True: recommended.append(13)
        elif e13 is None: undetermined.append(13)
        if e14 is True: recommended.append(14)
        elif e14 is None: undetermined.append(14)
        if e15 is True: recommended.append(15)
        elif e15 is None: undetermined.append(15)
        if e16 is True: recommended.append(16)
        elif e16 is None: undetermined.append(16)
        if e17 is True: recommended.append(17); to_explain.append(17)
        elif e17 is None: undetermined.append(17)
        if e18 is True: recommended.append(18)
        elif e18 is None: undetermined.append(18)
        if e19 is True: recommended.append(19)
        if e20 is True: noted.append(20)
        elif e20 is None: undetermined.append(20)
        if e21 is True: noted.append(21)
        elif e21 is None: undetermined.append(21)
        if e22 is True: recommended.append(22)
        elif e22 is None: undetermined.append(22)
        if e23 is True: recommended.append(23)
        elif e23 is None: undetermined.append(23)
        if e24 is None: undetermined.append(24)
        if e25 is None: undetermined.append(25)
        if e26 is None: undetermined.append(26)
        if e27 is True: noted.append(27)
        if e28 is True: noted.append(28)
        if e29 is True: noted.append(29)
        elif e29 is None: undetermined.append(29)
        if e30 is True: recommended.append(30); to_explain.append(30)
        elif e30 is None: undetermined.append(30)
        if e31 is True: noted.append(31)
        elif e31 is None: undetermined.append(31)
        if d0 is not None: derivations.append(('response', (*((24,) if e24 is True else ()), *((25,) if e25 is True else ()), *((26,) if e26 is True else ()),)))
        if e26 is False and b26 is True and (e25 is True): overridden.append(26); outcomes['response.non_response'] = 'overridden'
        shape = (outcomes, (*recommended,), (*noted,), (*undetermined,), (*overridden,), (*to_explain,), (*derivations,), (*to_walk,), )
        if _SHAPES.__len__() < 4096:
            _SHAPES[truths] = shape
    outcomes, recommended, noted, undetermined, overridden, to_explain, derivations, to_walk = shape
    outcomes = outcomes.copy()
    found = {}
    if e1 is None: found[1] = ('leukoencephalopathy_type',)
    if e2 is None: found[2] = ((('leukoencephalopathy_type',) if (f1 is None) else ()) + (('immune_restoration_possible',) if f3 is None else ()))
    if e3 is None: found[3] = ((('leukoencephalopathy_type',) if (f1 is None) else ()) + (('hiv_positive',) if f2 is None else ()))
    if e4 is True: found[4] = (('leukoencephalopathy_type',) + (('pml_medication_induced',) if f4 is True else ('causative_drug',)))
    elif e4 is None: found[4] = ((('leukoencephalopathy_type',) if (f1 is None) else ()) + (((('pml_medication_induced',) if f4 is None else ()) + (('causative_drug',) if (f6 is None) else ())) if ((True if f4 is True else True if f6 in {'mycophenolic_acid', 'rituximab', 'other'} else None if (f4 is None or (f6 is None)) else False) is None) else ()))
    if e5 is True: found[5] = (('leukoencephalopathy_type',) + (('pml_medication_induced',) if f4 is True else ('causative_drug',)) + ('checkpoint_inhibitor_candidate',))
    elif e5 is None: found[5] = ((('leukoencephalopathy_type',) if (f1 is None) else ()) + (((('pml_medication_induced',) if f4 is None else ()) + (('causative_drug',) if (f6 is None) else ())) if ((True if f4 is True else True if f6 in {'mycophenolic_acid', 'rituximab', 'other'} else None if (f4 is None or (f6 is None)) else False) is None) else ()) + (('checkpoint_inhibitor_candidate',) if f5 is None else ()))
    if e6 is True: found[6] = (('causative_drug',) + (('pml_signs',) if f7 is True else ('leukoencephalopathy_type',)))
    elif e6 is None: found[6] = ((('causative_drug',) if (f6 is None) else ()) + (((('pml_signs',) if f7 is None else ()) + (('leukoencephalopathy_type',) if (f1 is None) else ())) if ((True if f7 is True else True if f1 == 'pml' else None if (f7 is None or (f1 is None)) else False) is None) else ()))
    if e7 is None: found[7] = ('leukoencephalopathy_type',)
    if e9 is None: found[9] = ((('leukoencephalopathy_type',) if (f1 is None) else ()) + (('plasma_exchange_response',) if (f11 is None) else ()))
    if e10 is None: found[10] = ((('leukoencephalopathy_type',) if (f1 is None) else ()) + (('toxic_exposure_ongoing',) if f12 is None else ()))
    if e11 is None: found[11] = ((('leukoencephalopathy_type',) if (f1 is None) else ()) + (('electrolyte_imbalance',) if f15 is None else ()))
    if e12 is True: found[12] = (('leukoencephalopathy_type',) + (('agitation',) if f16 is True else ('seizures',)))
    elif e12 is None: found[12] = ((('leukoencephalopathy_type',) if (f1 is None) else ()) + (((('agitation',) if f16 is None else ()) + (('seizures',) if f17 is None else ())) if ((True if f16 is True else True if f17 is True else None if (f16 is None or f17 is None) else False) is None) else ()))
    if e13 is None: found[13] = ('neuropathic_pain',)
    if e14 is None: found[14] = ('seizures',)
    if e15 is None: found[15] = ('raised_intracranial_pressure',)
    if e16 is None: found[16] = ('motor_deficits',)
    if e17 is True: found[17] = (('neurological_symptoms',) if f22 is True else (('motor_deficits',) if f20 is True else ('dysarthria_or_dysphasia',)))
    elif e17 is None: found[17] = ((('neurological_symptoms',) if f22 is None else ()) + (('motor_deficits',) if f20 is None else ()) + (('dysarthria_or_dysphasia',) if f21 is None else ()))
    if e18 is None: found[18] = ('dysarthria_or_dysphasia',)
    if e20 is None: found[20] = ('symptom_course',)
    if e21 is None: found[21] = ((('symptom_course',) if (f23 is None) else ()) + (('mri_findings',) if (f25 is None) else ()))
    if e22 is None: found[22] = ('leukoencephalopathy_type',)
    if e23 is None: found[23] = ('leukoencephalopathy_type',)
    if e24 is None: found[24] = ((('symptom_course',) if (f23 is None) else ()) + (('csf_findings',) if (f24 is None) else ()) + (('mri_findings',) if (f25 is None) else ()))
    if e25 is True: found[25] = _union(((('symptom_course',) if f23 == 'improved' else (('symptom_course',) + (('mri_findings',) if f25 == 'abnormal' else ('csf_findings',)))) + ('mri_findings',) + ('csf_findings',)))
    elif e25 is None: found[25] = ((((('symptom_course',) if (f23 is None) else ()) + (((('symptom_course',) if (f23 is None) else ()) + (((('mri_findings',) if (f25 is None) else ()) + (('csf_findings',) if (f24 is None) else ())) if ((True if f25 == 'abnormal' else True if f24 == 'abnormal' else None if ((f25 is None) or (f24 is None)) else False) is None) else ())) if ((False if (f23 is not None and f23 != 'resolved') else False if (_t18 := (True if f25 == 'abnormal' else True if f24 == 'abnormal' else None if ((f25 is None) or (f24 is None)) else False)) is False else None if ((f23 is None) or _t18 is None) else True) is None) else ())) if ((True if f23 == 'improved' else True if (_t20 := (False if (f23 is not None and f23 != 'resolved') else False if (_t19 := (True if f25 == 'abnormal' else True if f24 == 'abnormal' else None if ((f25 is None) or (f24 is None)) else False)) is False else None if ((f23 is None) or _t19 is None) else True)) is True else None if ((f23 is None) or _t20 is None) else False) is None) else ()) + (('mri_findings',) if (f25 is None) else ()) + (('csf_findings',) if (f24 is None) else ()))
    if e26 is True: found[26] = (('symptom_course',) if f23 in {'unchanged', 'progressed'} else (('mri_findings',) if f25 in {'abnormal', 'progressed'} else ('csf_findings',)))
    if e29 is None: found[29] = ((('on_treatment',) if f13 is None else ()) + (('clinical_decline',) if f14 is None else ()))
    if e30 is True: found[30] = (('immune_mediated',) if f8 is True else ('leukoencephalopathy_type',))
    elif e30 is None: found[30] = ((('immune_mediated',) if f8 is None else ()) + (('leukoencephalopathy_type',) if (f1 is None) else ()))
    if e8 is None: found[8] = (('corticosteroid_response',) if (f10 is None) else ()) + (found[7] if e7 is None else ())
    if e26 is None: found[26] = (((('symptom_course',) if (f23 is None) else ()) + (('mri_findings',) if (f25 is None) else ()) + (('csf_findings',) if (f24 is None) else ())) if ((True if f23 in {'unchanged', 'progressed'} else True if f25 in {'abnormal', 'progressed'} else True if f24 in {'abnormal', 'progressed'} else None if ((f23 is None) or (f25 is None) or (f24 is None)) else False) is None) else ()) + (found[25] if e25 is None else ())
    if e31 is None: found[31] = (('pres',) if f9 is None else ()) + (found[30] if e30 is None else ())
    env = _UNKNOWN_ENV.copy()
    env.update(facts)
    env['response'] = d0
    return _CoreResult(  # by position, in the order of its fields: faster than keywords
        effective,  # effective
        {26: b26},  # base
        (d0, ),  # derived_values
        (g0, ),  # gap_truth
        outcomes,  # outcomes
        env,  # env
        facts_json,  # facts_json
        found,  # found
        recommended,  # recommended
        noted,  # noted
        undetermined,  # undetermined
        overridden,  # overridden
        to_explain,  # to_explain
        derivations,  # derivations
        to_walk,  # to_walk
    )

def _decide(facts, _k0=_k0, _k1=_k1, _k2=_k2, _k3=_k3, _k4=_k4, _k5=_k5, _k6=_k6):
    g = facts.get
    f1 = g('leukoencephalopathy_type')
    f6 = g('causative_drug')
    f14 = g('seizures')
    f17 = g('motor_deficits')
    f19 = g('dysarthria_or_dysphasia')
    # rule 'adem.corticosteroids'
    t7 = f1 == 'post_infectious'
    # rule 'considerations.blood_pressure_control'
    t30 = (g('immune_mediated') is True or f1 == 'post_infectious')
    fired = ['approach.supportive_care', 'imaging.serial_mri', 'considerations.symptoms_guide_treatment', 'considerations.permanent_deficits']
    add = fired.append
    if f1 == 'pml':
        add('pml.cause')
        add('laboratory.pml_csf_jc_virus')
        if (g('pml_medication_induced') is True or f6 in {'mycophenolic_acid', 'rituximab', 'other'}):
            add('pml.medication_induced.no_antiviral')
            if g('checkpoint_inhibitor_candidate') is True:
                add('pml.medication_induced.checkpoint_inhibitors')
        if g('immune_restoration_possible') is True:
            add('pml.immune_restoration')
        if g('hiv_positive') is True:
            add('pml.hiv_antiretroviral_therapy')
    elif f1 == 'post_infectious':
        if g('plasma_exchange_response') == 'not_responding':
            add('adem.ivig')
    elif f1 == 'toxic':
        if g('toxic_exposure_ongoing') is True:
            add('toxic.remove_exposure')
        if g('electrolyte_imbalance') is True:
            add('toxic.correct_electrolytes')
        if (g('agitation') is True or f14 is True):
            add('toxic.benzodiazepines')
    elif f1 == 'drug_induced':
        add('laboratory.drug_induced_blood_tests')
    if t7:
        add('adem.corticosteroids')
        if g('corticosteroid_response') == 'not_responding':
            add('adem.plasma_exchange')
    if g('symptom_course') in {'resolved', 'improved'}:
        add('imaging.radiological_lag')
        if g('mri_findings') in {'minimal_residual', 'abnormal'}:
            add('imaging.persistent_t2_flair_lesions')
    if t30:
        add('considerations.blood_pressure_control')
        if g('pres') is True:
            add('considerations.blood_pressure_control_pres')
    if f6 == 'mycophenolic_acid' and (g('pml_signs') is True or f1 == 'pml'):
        add('drug_induced.mycophenolic_acid.cessation')
    if g('neuropathic_pain') is True:
        add('supportive.neuropathic_pain')
    if f14 is True:
        add('supportive.seizures')
    if g('raised_intracranial_pressure') is True:
        add('supportive.raised_intracranial_pressure')
    if f17 is True:
        add('rehabilitation.physical_occupational_therapy')
    if (g('neurological_symptoms') is True or f17 is True or f19 is True):
        add('rehabilitation.functional_training')
    if f19 is True:
        add('rehabilitation.speech_therapy')
    if g('on_treatment') is True and g('clinical_decline') is True:
        add('considerations.decline_may_be_treatment_toxicity')
    return frozenset(fired)

def _broken(facts, _k0=_k0, _k1=_k1, _k2=_k2, _k3=_k3, _k4=_k4, _k5=_k5, _k6=_k6):
    g = facts.get
    f1 = g('leukoencephalopathy_type')
    f2 = g('causative_drug')
    f3 = g('pml_medication_induced')
    broken = []
    # constraint 'pml.drug_means_medication_induced'
    if ((False if (f1 is not None and f1 != 'pml') else False if (f2 is not None and not (f2 in {'mycophenolic_acid', 'rituximab', 'other'})) else None if ((f1 is None) or (f2 is None)) else True) is True) and f3 is False: broken.append(0)
    # constraint 'pml.medication_induced_has_a_drug'
    if ((False if (f1 is not None and f1 != 'pml') else False if f3 is False else None if ((f1 is None) or f3 is None) else True) is True) and (f2 is not None and not (f2 in {'mycophenolic_acid', 'rituximab', 'other'})): broken.append(1)
    # constraint 'drug_induced.has_a_drug'
    if f1 == 'drug_induced' and (f2 is not None and not (f2 in {'mycophenolic_acid', 'rituximab', 'other'})): broken.append(2)
    return broken
