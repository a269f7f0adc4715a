"""Files uploaded through forms (attachments), stored in the database so a backup holds them too."""
