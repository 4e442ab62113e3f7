"""The engine: EscalationModel (mesa.Model), its actors, policies, red lines and commitments."""
