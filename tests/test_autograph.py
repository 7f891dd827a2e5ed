"""AutoGraph leaves tf-keras's own code alone once mian_keras is imported, and still converts ours."""

import tf_keras as keras
from tensorflow.python.autograph.impl import conversion

import mian_keras
from mian_keras.autograph import skip_tf_keras
from mian_keras.layers.gim import GlobalInteraction


def test_tf_keras_is_not_converted_and_our_layers_are():
    assert mian_keras.build_model  # imported: the rule is in place
    assert conversion.is_allowlisted(keras.Model.train_step)
    assert conversion.is_allowlisted(keras.metrics.AUC.update_state)
    assert not conversion.is_allowlisted(GlobalInteraction.call)


def test_the_rule_is_added_once():
    from tensorflow.python.autograph.core import config

    before = len(config.CONVERSION_RULES)
    skip_tf_keras()
    assert len(config.CONVERSION_RULES) == before
