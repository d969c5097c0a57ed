"""Policy templates (``policyTemplateInstances``): declarative request/response transformations.

``build_policy_stage(api, properties)`` compiles a connector's instances once into a
pipeline :class:`PolicyStage`. One module per family of templates; ``TEMPLATES`` maps each
``templateId`` (lower case; lookups are case-insensitive) to its builder.
"""

from tether.runtime.policies._base import Policy, PolicyInstance
from tether.runtime.policies._call import TRIGGER_STATE_ARGUMENT, PolicyCall
from tether.runtime.policies._errors import ConnectionUnauthenticated, InvalidPolicy, PolicyError
from tether.runtime.policies._expressions import Expression, Scope, Template, compile_template
from tether.runtime.policies._paths import JsonPath, compile_path
from tether.runtime.policies._polling import PollingTrigger, polling_trigger
from tether.runtime.policies._registry import TEMPLATES, build_policies, build_policy
from tether.runtime.policies._stage import PolicyStage, build_policy_stage

__all__ = [
    "TEMPLATES",
    "TRIGGER_STATE_ARGUMENT",
    "ConnectionUnauthenticated",
    "Expression",
    "InvalidPolicy",
    "JsonPath",
    "Policy",
    "PolicyCall",
    "PolicyError",
    "PolicyInstance",
    "PolicyStage",
    "PollingTrigger",
    "Scope",
    "Template",
    "build_policies",
    "build_policy",
    "build_policy_stage",
    "compile_path",
    "compile_template",
    "polling_trigger",
]
