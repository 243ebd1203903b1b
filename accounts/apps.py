from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customer accounts and opportunities"

    def ready(self) -> None:
        from salesmgmt.webhooks import register_payload_serializer

        # Webhook events about deals carry the deal as the API shows it.
        register_payload_serializer(
            model_label="accounts.opportunity",
            serializer_path="accounts.api.serializers.OpportunitySerializer",
        )
