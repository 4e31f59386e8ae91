"""The learning loop's parts: bandit policies that choose among strategies (``policies``) and off-policy
estimators that value a policy from logged decisions (``ope``)."""
